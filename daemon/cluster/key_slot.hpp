#pragma once
// Which of Redis Cluster's 16384 hash slots a key lives in, as the cluster
// specification defines it: CRC16 (the XMODEM variant) of the key, or of its
// hash tag, modulo 16384.
//
// Hash tag: when the key holds a '{', and a '}' follows that first '{' with
// at least one byte between them, only the bytes between that first '{' and
// the first '}' after it are hashed. Otherwise the whole key is:
//
//   "{soctrang.gov.vn}:views"  hashes "soctrang.gov.vn"
//   "foo{}{bar}"               hashes the whole key (the first tag is empty)
//   "foo{{bar}}zap"            hashes "{bar"
//   "foo{bar}{zap}"            hashes "bar"
//
// Keys are bytes: UTF-8 ids and binary keys hash as they are. Pure and
// thread-safe.
#include <cstdint>
#include <string_view>

namespace pvc::cluster {

inline constexpr std::uint16_t slot_count = 16384;

// CRC16-CCITT as XMODEM computes it: polynomial 0x1021, initial value 0, no
// reflection, no final XOR. "123456789" -> 0x31C3.
std::uint16_t crc16_xmodem(std::string_view bytes);

// The part of `key` that is hashed: its hash tag, or the whole key.
std::string_view hashed_part(std::string_view key);

// The key's slot, 0..16383.
std::uint16_t key_slot(std::string_view key);

}  // namespace pvc::cluster
