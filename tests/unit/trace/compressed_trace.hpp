// Compressed (version 2) trace files for the reader's tests, made from a plain file's records
// as the collector's writer makes them: a zstd block ended at each flush, the frame ended at
// the close.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "trace/record_compressor.hpp"
#include "trace/trace_file_versions.hpp"
#include "wire/record.hpp"

namespace cowtrace::testing {

struct CompressedTrace {
    std::vector<uint8_t> bytes;
    // The file's length after each flush: what a collector killed right after it leaves.
    std::vector<size_t> flush_ends;
};

// plain: a version-1 file (16-byte header, records). flush_at: offsets in it (record starts)
// where the writer flushed. closed: the frame is ended, as TraceWriter::close does.
inline CompressedTrace compress_trace(const std::vector<uint8_t>& plain,
                                      const std::vector<size_t>& flush_at = {},
                                      bool closed = true) {
    CompressedTrace out;
    uint8_t header[wire::kFileHeaderSize];
    encode_compressed_file_header(header);
    out.bytes.assign(header, header + sizeof header);
    RecordCompressor compressor(1);
    size_t from = wire::kFileHeaderSize;
    for (size_t at : flush_at) {
        compressor.compress({plain.data() + from, at - from}, out.bytes);
        out.flush_ends.push_back(out.bytes.size());
        from = at;
    }
    std::span<const uint8_t> rest(plain.data() + from, plain.size() - from);
    if (closed) {
        compressor.finish(rest, out.bytes);
    } else {
        compressor.compress(rest, out.bytes);
        out.flush_ends.push_back(out.bytes.size());
    }
    return out;
}

}  // namespace cowtrace::testing
