// Optional figures kept as values with presence bits: absent is not zero, and no value (the
// largest a damaged trace may hold) reads as absent.
#include "model/presence_bits.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "model/process_tree.hpp"

namespace cowtrace::model {
namespace {

TEST(PresenceBits, AbsentIsNotZeroAndTheLargestValueIsPresent) {
    ForkEpisode e;
    EXPECT_FALSE(e.end_ns());
    e.set_end_ns(0);
    ASSERT_TRUE(e.end_ns());
    EXPECT_EQ(*e.end_ns(), 0u);
    EXPECT_FALSE(e.baseline_delay_ns()) << "each figure has its own bit";
    e.set_baseline_delay_ns(std::numeric_limits<uint64_t>::max());
    ASSERT_TRUE(e.baseline_delay_ns());
    EXPECT_EQ(*e.baseline_delay_ns(), std::numeric_limits<uint64_t>::max());
}

TEST(PresenceBits, SettingNothingMakesAFigureAbsentAgain) {
    Process p;
    p.set_end_ns(42);
    p.set_first_image_minor_faults(7);
    p.set_end_ns(std::nullopt);
    EXPECT_FALSE(p.end_ns());
    EXPECT_EQ(p.first_image_minor_faults(), 7u);
}

}  // namespace
}  // namespace cowtrace::model
