#include "core/sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <new>

namespace pvc {
namespace {

// Fetched once: passing EVP_sha256() instead makes OpenSSL 3 look the
// algorithm up in its provider tables on every call (a beacon each).
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) throw std::bad_alloc();
    return m;
  }();
  return md;
}

}  // namespace

sha256_digest sha256(std::string_view data) {
  sha256_digest out;
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, sha256_md(), nullptr) != 1 ||
      size != out.size()) {
    throw std::bad_alloc();
  }
  return out;
}

sha256_digest hmac_sha256(std::string_view key, std::string_view message) {
  // HMAC() takes the key length as an int. A key longer than the hash's
  // block is replaced by its digest anyway (RFC 2104), so doing that here
  // for a huge one gives the same MAC.
  sha256_digest hashed_key;
  if (key.size() > INT_MAX) {
    hashed_key = sha256(key);
    key = std::string_view(reinterpret_cast<const char*>(hashed_key.data()), hashed_key.size());
  }
  sha256_digest out;
  unsigned int size = 0;
  // HMAC() reads no key bytes for an empty key but still wants a pointer.
  static constexpr unsigned char no_key = 0;
  const void* key_bytes = key.empty() ? &no_key : static_cast<const void*>(key.data());
  if (HMAC(sha256_md(), key_bytes, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &size) == nullptr ||
      size != out.size()) {
    throw std::bad_alloc();
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const sha256_digest da = sha256(a), db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace pvc
