// The builder's list of records: time order with the trace start first and ties in the order
// added, and records read from a file held where the reader keeps them, whole.
#include "model/time_ordered_records.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "trace_builder.hpp"

namespace cowtrace::model {
namespace {

using testing::TraceBuilder;

// Three records out of time order, two stamped alike, and the trace start last in the file.
TraceBuilder out_of_order() {
    TraceBuilder b;
    b.hello(201, 3000, 101, "/bin/b", {"b"})
        .hello(202, 2000, 101, "/bin/a", {"a"})
        .hello(203, 2000, 101, "/bin/c", {"c"})
        .trace_start(100, 101, 5000, 5000);
    return b;
}

std::vector<int32_t> pids_in_order(TimeOrderedRecords& records) {
    records.sort();
    std::vector<int32_t> pids;
    for (size_t i = 0; i < records.size(); ++i) pids.push_back(records.at(i).header.pid);
    return pids;
}

TEST(TimeOrderedRecords, TraceStartFirstThenTimeThenOrderAdded) {
    // The builder outlives the loop: its records' payloads are views of its buffers.
    TraceBuilder builder = out_of_order();
    TimeOrderedRecords records;
    for (const RawRecord& rec : builder.records()) records.add_copy(rec);
    EXPECT_EQ(pids_in_order(records), (std::vector<int32_t>{100, 202, 203, 201}));
}

TEST(TimeOrderedRecords, RecordsReadFromAFileComeBackWhole) {
    std::vector<uint8_t> file = out_of_order().file();
    TraceReader reader;
    ASSERT_TRUE(reader.open_buffer(file.data(), file.size()));
    TimeOrderedRecords records;
    std::vector<RawRecord> read;
    RawRecord rec;
    while (reader.next(rec)) {
        records.add_in_place(rec);
        read.push_back(rec);
    }
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(pids_in_order(records), (std::vector<int32_t>{100, 202, 203, 201}));
    for (size_t i = 0; i < records.size(); ++i) {
        RawRecord got = records.at(i);
        auto same = std::find_if(read.begin(), read.end(), [&](const RawRecord& r) {
            return r.header.pid == got.header.pid;
        });
        ASSERT_NE(same, read.end());
        EXPECT_EQ(std::memcmp(&got.header, &same->header, sizeof got.header), 0);
        // In place: the reader's own bytes, not a copy.
        EXPECT_EQ(got.payload.data(), same->payload.data());
        EXPECT_EQ(got.payload.size(), same->payload.size());
    }
}

}  // namespace
}  // namespace cowtrace::model
