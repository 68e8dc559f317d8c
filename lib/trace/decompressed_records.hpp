// The records of a compressed trace file (version 2), decompressed into memory this object
// owns. Trusts nothing: a stream that is cut or damaged keeps what decompressed whole and says
// how it ended; one that would inflate beyond any trace the collector writes is stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

struct ZSTD_DCtx_s;

namespace cowtrace {

class DecompressedRecords {
public:
    enum class End {
        kWhole,       // every frame ended
        kAfterBlock,  // the file stops after a whole block, inside a frame: after a flush
        kCut,         // the file stops inside a block or a frame header
        kDamaged,     // zstd refused the data (why() says what it found)
    };

    // Decompresses the zstd stream of size bytes at data (what follows the file header).
    void decompress(const uint8_t* data, size_t size);

    const uint8_t* data() const { return bytes_.get(); }
    size_t size() const { return size_; }
    End end() const { return end_; }
    const std::string& why() const { return why_; }

private:
    enum class Step { kDone, kRefused, kStopped };
    Step inflate(ZSTD_DCtx_s* decoder, const uint8_t* data, size_t from, size_t to, size_t piece,
                 size_t& failed_piece);
    bool grow(size_t capacity);
    bool make_room();  // false (and damaged) past the inflation limit or out of memory

    struct FreeBytes {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    // malloc'd so that growing a large buffer is realloc's mremap, not a copy.
    std::unique_ptr<uint8_t, FreeBytes> bytes_;
    size_t size_ = 0;
    size_t capacity_ = 0;
    size_t limit_ = 0;
    size_t wanted_ = 0;  // what zstd's last call asked for: 0 at the end of a frame
    End end_ = End::kWhole;
    std::string why_;
};

}  // namespace cowtrace
