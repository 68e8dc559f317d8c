// The versions of a trace file (docs/FORMAT.md, "File header"). Every version has the same
// 16-byte header (wire/record.hpp) and the same records; the version says how the records
// follow the header.
#pragma once

#include <cstdint>
#include <cstring>

#include "wire/record.hpp"

namespace cowtrace {

// Records back to back: spool files (the library stays lean) and traces written before v2.
inline constexpr uint32_t kPlainTraceVersion = wire::kFormatVersion;
static_assert(kPlainTraceVersion == 1);
// The same records as one zstd stream (RFC 8878): what the collector writes. A cowtrace of
// short-lived processes wrote ~1.9 KB of plain records per process.
inline constexpr uint32_t kCompressedTraceVersion = 2;
inline constexpr uint32_t kNewestTraceVersion = kCompressedTraceVersion;

// zstd's empty last block: a 3-byte Block_Header (RFC 8878 §3.1.1.2: Last_Block 1, Raw_Block,
// Block_Size 0), what zstd itself ends a frame with when no data is left. The writer ends a
// frame cut short by a full disk with it; the reader offers it to a stream that stops early, to
// learn whether it stopped between two blocks.
inline constexpr uint8_t kZstdEmptyLastBlock[3] = {0x01, 0x00, 0x00};

// The header of a compressed trace file: as wire::encode_file_header, with version 2.
inline void encode_compressed_file_header(uint8_t (&out)[wire::kFileHeaderSize]) {
    wire::encode_file_header(out);
    memcpy(out + 8, &kCompressedTraceVersion, 4);
}

}  // namespace cowtrace
