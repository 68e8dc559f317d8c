#include "record_compressor.hpp"

#include <zstd.h>

#include <iterator>
#include <new>

#include "trace/trace_file_versions.hpp"

namespace cowtrace {

RecordCompressor::RecordCompressor(int level) : cctx_(ZSTD_createCCtx()) {
    if (cctx_ == nullptr) throw std::bad_alloc();
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
}

RecordCompressor::~RecordCompressor() {
    ZSTD_freeCCtx(cctx_);
}

bool RecordCompressor::compress(std::span<const uint8_t> records, std::vector<uint8_t>& out) {
    return run(records, out, false);
}

bool RecordCompressor::finish(std::span<const uint8_t> records, std::vector<uint8_t>& out) {
    return run(records, out, true);
}

void RecordCompressor::restart() {
    ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
}

void RecordCompressor::end_cut_frame(std::vector<uint8_t>& out) {
    out.insert(out.end(), std::begin(kZstdEmptyLastBlock), std::end(kZstdEmptyLastBlock));
}

bool RecordCompressor::run(std::span<const uint8_t> records, std::vector<uint8_t>& out,
                           bool end_frame) {
    const size_t start = out.size();
    // Room for the worst case (incompressible input) and a frame header; grown if ever short.
    out.resize(start + ZSTD_compressBound(records.size()) + 64);
    ZSTD_inBuffer in{records.data(), records.size(), 0};
    size_t pos = start;
    for (;;) {
        ZSTD_outBuffer o{out.data(), out.size(), pos};
        size_t left = ZSTD_compressStream2(cctx_, &o, &in, end_frame ? ZSTD_e_end : ZSTD_e_flush);
        pos = o.pos;
        if (ZSTD_isError(left)) {
            out.resize(start);
            restart();
            return false;
        }
        if (left == 0) break;
        if (o.pos == o.size) out.resize(out.size() * 2);
    }
    out.resize(pos);
    return true;
}

}  // namespace cowtrace
