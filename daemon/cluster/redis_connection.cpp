#include "cluster/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace pvc::cluster {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

redis_reply to_owned(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = reply_type::string;
      out.text.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = reply_type::status;
      out.text.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = reply_type::error;
      out.text.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = reply_type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = reply_type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(to_owned(*r.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = reply_type::nil;
      break;
  }
  return out;
}

std::string context_error(const redisContext* c, const node_address& node) {
  std::string what = c->errstr[0] ? c->errstr : "connection lost";
  return node.to_string() + ": " + what;
}

}  // namespace

redis_connection::redis_connection(redisContext* context, node_address node)
    : context_(context), node_(std::move(node)) {}

redis_connection::~redis_connection() {
  redisFree(context_);
}

std::unique_ptr<redis_connection> redis_connection::open(const node_address& node,
                                                         const connection_options& o,
                                                         std::string& error) {
  redisContext* c =
      redisConnectWithTimeout(node.host.c_str(), node.port, to_timeval(o.connect_timeout));
  if (c == nullptr) {
    error = node.to_string() + ": cannot allocate a connection";
    return nullptr;
  }
  if (c->err) {
    error = context_error(c, node);
    redisFree(c);
    return nullptr;
  }
  if (redisSetTimeout(c, to_timeval(o.command_timeout)) != REDIS_OK) {
    error = context_error(c, node);
    redisFree(c);
    return nullptr;
  }
  std::unique_ptr<redis_connection> conn(new redis_connection(c, node));
  // Both go in one round trip when both are wanted.
  std::vector<command> setup;
  if (!o.password.empty()) {
    setup.push_back(o.username.empty() ? command{"AUTH", o.password}
                                       : command{"AUTH", o.username, o.password});
  }
  if (o.readonly) setup.push_back({"READONLY"});
  if (setup.empty()) return conn;
  std::vector<const command*> pointers;
  for (const auto& s : setup)
    pointers.push_back(&s);
  std::vector<redis_reply> replies;
  if (!conn->exchange(pointers, replies, error)) return nullptr;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      // Never echo the password: name the command only.
      error = node.to_string() + ": " + setup[i][0] + " refused: " + replies[i].text;
      return nullptr;
    }
  }
  return conn;
}

bool redis_connection::send(const std::vector<const command*>& commands, std::string& error) {
  if (broken_) {
    error = node_.to_string() + ": connection already broken";
    return false;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const command* c : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& a : *c) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      broken_ = true;
      error = context_error(context_, node_);
      return false;
    }
  }
  // Written out now rather than by the first redisGetReply, so the caller
  // can send to every node before it waits for any.
  int done = 0;
  while (!done) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) {
      broken_ = true;
      error = context_error(context_, node_);
      return false;
    }
  }
  return true;
}

bool redis_connection::receive(std::size_t count, std::vector<redis_reply>& replies,
                               std::string& error) {
  replies.clear();
  if (broken_) {
    error = node_.to_string() + ": connection already broken";
    return false;
  }
  replies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      broken_ = true;
      error = context_error(context_, node_);
      replies.clear();
      return false;
    }
    auto* r = static_cast<redisReply*>(raw);
    replies.push_back(to_owned(*r));
    freeReplyObject(r);
  }
  return true;
}

bool redis_connection::exchange(const std::vector<const command*>& commands,
                                std::vector<redis_reply>& replies, std::string& error) {
  replies.clear();
  return send(commands, error) && receive(commands.size(), replies, error);
}

bool redis_connection::exchange(const command& c, redis_reply& reply, std::string& error) {
  std::vector<redis_reply> replies;
  if (!exchange({&c}, replies, error)) return false;
  reply = std::move(replies.front());
  return true;
}

}  // namespace pvc::cluster
