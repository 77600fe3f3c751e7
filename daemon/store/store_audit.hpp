#pragma once
// The audit journal (store_audit.cpp). Corrections and imports journal
// themselves, in the same write as their change; append_audit is for an
// operation that changes no counts through these functions (a restore).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_types.hpp"

namespace pvc {

class store;

admin_outcome append_audit(store& st, const audit_entry& e);
// The records at or after `since_unix_us`, after `after_key`, at most
// `limit`, oldest first.
std::string read_audit(const store& st, std::int64_t since_unix_us, std::string_view after_key,
                       std::size_t limit, std::vector<std::string>& records, std::string& next_key);
// Copies the audit records of the (closed) store in `dir` that this one
// lacks: a restore keeps the journal of the data dir it replaces.
std::string copy_audit_from(store& st, const std::string& dir, std::uint64_t& copied);

}  // namespace pvc
