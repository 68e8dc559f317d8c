// Figures that may be absent, kept as plain values with one presence bit each: a
// std::optional<uint64_t> is 16 bytes, the value 8, and the bits share a byte with a struct's
// other one-byte fields (issue 15). No value can stand for "absent": a damaged trace may hold
// any, the largest too.
#pragma once

#include <cstdint>
#include <optional>

namespace cowtrace::model {

class PresenceBits {
public:
    std::optional<uint64_t> get(unsigned bit, uint64_t value) const {
        return (bits_ >> bit & 1u) ? std::optional<uint64_t>(value) : std::nullopt;
    }
    void set(unsigned bit, uint64_t& value, std::optional<uint64_t> given) {
        value = given.value_or(0);
        bits_ = static_cast<uint8_t>(given ? bits_ | 1u << bit : bits_ & ~(1u << bit));
    }

private:
    uint8_t bits_ = 0;
};

}  // namespace cowtrace::model
