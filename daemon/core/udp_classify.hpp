#pragma once
// The UDP fast lane's first step: a datagram's bytes as two bit masks, one
// bit per byte, that udp_datagram.cpp walks to split lines and fields.
//
//   separators: a space or an LF.
//   unusual:    a byte outside 0x21..0x7E (not a separator: a control byte,
//               or a byte of UTF-8, which the line parser validates) or one
//               that changes on decoding ('%', '+').
//
// Two implementations with one result, 16 bytes per step (SSE2, every
// x86-64) and 32 (AVX2, chosen at run time when the CPU has it, so the
// build stays portable). Tests hold them to the same masks.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pvc {

enum class byte_classifier { none, sse2, avx2 };

// The widest classifier this CPU runs (none without SSE2: not x86-64).
byte_classifier best_byte_classifier() noexcept;

// Whether this CPU runs `c` (none, the line parser alone, runs everywhere).
bool cpu_runs(byte_classifier c) noexcept;

// Fills separators[0, words) and unusual[0, words), words = (size + 63) / 64,
// for datagram bytes [0, size), 1 <= size; bits past the end are 0. Returns
// whether any byte is unusual (most datagrams have none). `c` must be one this
// CPU runs (not none).
bool classify_bytes(byte_classifier c, std::string_view datagram, std::uint64_t* separators,
                    std::uint64_t* unusual) noexcept;

}  // namespace pvc
