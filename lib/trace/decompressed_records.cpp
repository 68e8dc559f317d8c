#include "decompressed_records.hpp"

#include <zstd.h>

#include <algorithm>

#include "trace/trace_file_versions.hpp"
#include "wire/record.hpp"

namespace cowtrace {

namespace {

// Records compress about tenfold (docs/PERFORMANCE.md, "Trace size"): a stream that inflates a
// thousandfold is not one the collector wrote, and would only fill memory (a tiny hostile file
// can ask for gigabytes). The slack lets a small file hold one record of the largest size.
constexpr size_t kMaxInflation = 1000;
constexpr size_t kInflationSlackBytes = wire::kMaxRecordSize + (1 << 20);

// Input handed to zstd per call. A call that fails reports nothing of what it decompressed
// before the failure; the piece it was given is then decompressed again a byte at a time.
constexpr size_t kPieceBytes = 64 * 1024;

using DecoderPtr = std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)>;

DecoderPtr new_decoder() {
    return DecoderPtr(ZSTD_createDCtx(), ZSTD_freeDCtx);
}

}  // namespace

bool DecompressedRecords::grow(size_t capacity) {
    auto* p = static_cast<uint8_t*>(std::realloc(bytes_.get(), capacity));
    if (p == nullptr) return false;
    (void)bytes_.release();
    bytes_.reset(p);
    capacity_ = capacity;
    return true;
}

bool DecompressedRecords::make_room() {
    if (capacity_ >= limit_) {
        end_ = End::kDamaged;
        why_ = "it inflates more than " + std::to_string(kMaxInflation) +
               "-fold: not a stream the collector wrote";
        return false;
    }
    if (!grow(std::min(limit_, std::max<size_t>(capacity_ * 2, 64 * 1024)))) {
        end_ = End::kDamaged;
        why_ = "out of memory";
        return false;
    }
    return true;
}

DecompressedRecords::Step DecompressedRecords::inflate(ZSTD_DCtx* decoder, const uint8_t* data,
                                                       size_t from, size_t to, size_t piece,
                                                       size_t& failed_piece) {
    for (size_t pos = from; pos < to;) {
        failed_piece = pos;
        ZSTD_inBuffer in{data, std::min(to, pos + piece), pos};
        for (;;) {
            if (size_ == capacity_ && !make_room()) return Step::kStopped;
            ZSTD_outBuffer out{bytes_.get() + size_, capacity_ - size_, 0};
            wanted_ = ZSTD_decompressStream(decoder, &out, &in);
            if (ZSTD_isError(wanted_)) {
                end_ = End::kDamaged;
                why_ = std::string("zstd: ") + ZSTD_getErrorName(wanted_);
                return Step::kRefused;
            }
            size_ += out.pos;
            // All input taken, and room left over or the frame ended and flushed: the decoder
            // gave everything it could (called again, it would wait for another frame).
            if (in.pos == in.size && (out.pos < out.size || wanted_ == 0)) break;
        }
        pos = in.pos;
    }
    return Step::kDone;
}

void DecompressedRecords::decompress(const uint8_t* data, size_t size) {
    size_ = 0;
    end_ = End::kWhole;
    why_.clear();
    wanted_ = 0;
    if (size == 0) return;  // a header alone: a trace with no record yet
    limit_ = size * kMaxInflation + kInflationSlackBytes;
    DecoderPtr decoder = new_decoder();
    if (!decoder || !grow(std::min(limit_, std::max<size_t>(size * 8, 64 * 1024)))) {
        end_ = End::kDamaged;
        why_ = "out of memory";
        return;
    }
    size_t failed_piece = 0;
    Step step = inflate(decoder.get(), data, 0, size, kPieceBytes, failed_piece);
    if (step == Step::kRefused) {
        // zstd does not say how much of the refused call's output was whole: decompress again
        // to that call, then byte by byte, so that every block before the damage is kept.
        size_ = 0;
        decoder = new_decoder();
        if (!decoder) return;
        size_t refused_from = failed_piece, unused = 0;
        inflate(decoder.get(), data, 0, refused_from, kPieceBytes, unused);
        inflate(decoder.get(), data, refused_from, size, 1, unused);
        return;
    }
    if (step == Step::kStopped || wanted_ == 0) return;
    // The stream stops inside a frame. If the decoder takes an empty last block here, and
    // gives nothing for it, it was waiting for a block header: the file stops after a whole
    // block. Otherwise the bytes fell inside a header or a block, which is cut.
    uint8_t scratch[64];
    ZSTD_inBuffer in{kZstdEmptyLastBlock, sizeof kZstdEmptyLastBlock, 0};
    ZSTD_outBuffer out{scratch, sizeof scratch, 0};
    size_t after = ZSTD_decompressStream(decoder.get(), &out, &in);
    bool between_blocks = after == 0 && out.pos == 0 && in.pos == in.size;
    end_ = between_blocks ? End::kAfterBlock : End::kCut;
}

}  // namespace cowtrace
