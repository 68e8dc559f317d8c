// Compresses the collector's records into the zstd stream (RFC 8878) of a version-2 trace
// file. Every call ends at least a zstd block, so all the records handed over so far can be
// decompressed from the output alone: a collector killed after a flush leaves a readable trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

struct ZSTD_CCtx_s;

namespace cowtrace {

class RecordCompressor {
public:
    explicit RecordCompressor(int level);
    ~RecordCompressor();
    RecordCompressor(const RecordCompressor&) = delete;
    RecordCompressor& operator=(const RecordCompressor&) = delete;

    // Appends records, compressed, to out and ends a block (ZSTD_e_flush): the frame stays
    // open, and its window keeps what came before (records repeat paths and command lines).
    // False if zstd failed (out of memory); out is then as it was.
    bool compress(std::span<const uint8_t> records, std::vector<uint8_t>& out);
    // The same, and ends the frame (ZSTD_e_end): the file's last output.
    bool finish(std::span<const uint8_t> records, std::vector<uint8_t>& out);

    // Forgets the frame under way: its output did not reach the file, and later blocks must
    // not refer to it. The next output starts a new frame.
    void restart();

    // Appends the end of a frame whose later blocks were lost (a full disk): an empty last
    // block (kZstdEmptyLastBlock). Reading the frame does not need what was lost.
    static void end_cut_frame(std::vector<uint8_t>& out);

private:
    bool run(std::span<const uint8_t> records, std::vector<uint8_t>& out, bool end_frame);

    ZSTD_CCtx_s* cctx_;
};

}  // namespace cowtrace
