#include "command_line.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <ostream>
#include <utility>

#include "wire/fields.hpp"

namespace cowtrace::model {

// Lines live in blocks: many to a block when a CommandLineTable keeps them, one when made alone.
// A block lives while any of its lines does. Renderers may share the model across threads: the
// count is atomic.
struct CommandLine::Block {
    std::atomic<uint64_t> refs;
};

// One line: this header, the end offset of each word, then the words' bytes back to back. The
// offsets are 16 bits when the words' bytes fit, as nearly every line's do (a compiler line's six
// words: 12 bytes less, and malloc's rounding often 16), else 32.
struct CommandLine::Storage {
    uint32_t offset;         // from its block's start
    uint32_t count : 31;     // a record holds far fewer words
    uint32_t wide_ends : 1;  // the offsets are uint32_t

    Block* block() const {
        return reinterpret_cast<Block*>(
            const_cast<char*>(reinterpret_cast<const char*>(this) - offset));
    }

    static bool needs_wide_ends(size_t bytes) { return bytes > UINT16_MAX; }
    static size_t ends_bytes(size_t count, bool wide) { return count * (wide ? 4 : 2); }
    uint32_t end(size_t i) const {
        return wide_ends ? reinterpret_cast<const uint32_t*>(this + 1)[i]
                         : reinterpret_cast<const uint16_t*>(this + 1)[i];
    }
    void set_end(size_t i, uint32_t end) {
        if (wide_ends)
            reinterpret_cast<uint32_t*>(this + 1)[i] = end;
        else
            reinterpret_cast<uint16_t*>(this + 1)[i] = static_cast<uint16_t>(end);
    }
    const char* text() const {
        return reinterpret_cast<const char*>(this + 1) + ends_bytes(count, wide_ends);
    }
    char* text() { return reinterpret_cast<char*>(this + 1) + ends_bytes(count, wide_ends); }
};

size_t hash_of_words(std::span<const std::string_view> words) {
    size_t h = words.size();
    for (std::string_view w : words) {
        h ^= std::hash<std::string_view>{}(w) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
}

CommandLine::CommandLine(const std::vector<std::string>& words) {
    std::vector<std::string_view> views(words.begin(), words.end());
    *this = CommandLine(std::span<const std::string_view>(views));
}

size_t CommandLine::bytes_for(std::span<const std::string_view> words) {
    size_t text = 0;
    for (std::string_view w : words) text += w.size();
    return sizeof(Storage) + Storage::ends_bytes(words.size(), Storage::needs_wide_ends(text)) +
           text;
}

CommandLine::Storage* CommandLine::made_in(Block* block, size_t offset,
                                           std::span<const std::string_view> words) {
    size_t text = 0;
    for (std::string_view w : words) text += w.size();
    void* memory = reinterpret_cast<char*>(block) + offset;
    Storage* s =
        new (memory) Storage{static_cast<uint32_t>(offset), static_cast<uint32_t>(words.size()),
                             Storage::needs_wide_ends(text)};
    uint32_t end = 0;
    for (size_t i = 0; i < words.size(); ++i) {
        if (!words[i].empty()) std::memcpy(s->text() + end, words[i].data(), words[i].size());
        end += static_cast<uint32_t>(words[i].size());
        s->set_end(i, end);
    }
    return s;
}

CommandLine::CommandLine(std::span<const std::string_view> words) {
    if (words.empty()) return;
    void* memory = ::operator new(sizeof(Block) + bytes_for(words));
    Block* block = new (memory) Block{{1}};
    s_ = made_in(block, sizeof(Block), words);
}

CommandLine& CommandLine::operator=(const CommandLine& o) noexcept {
    o.retain();
    release();
    s_ = o.s_;
    return *this;
}

CommandLine& CommandLine::operator=(CommandLine&& o) noexcept {
    if (this != &o) {
        release();
        s_ = o.s_;
        o.s_ = nullptr;
    }
    return *this;
}

void CommandLine::retain() const {
    if (s_) s_->block()->refs.fetch_add(1, std::memory_order_relaxed);
}

void CommandLine::release() {
    if (s_) release(s_->block());
    s_ = nullptr;
}

void CommandLine::release(Block* block) {
    // Block and Storage are trivially destructible: the memory is all there is to free.
    if (block->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) ::operator delete(block);
}

size_t CommandLine::size() const {
    return s_ ? s_->count : 0;
}

std::string_view CommandLine::operator[](size_t i) const {
    uint32_t begin = i == 0 ? 0 : s_->end(i - 1);
    return {s_->text() + begin, s_->end(i) - begin};
}

std::vector<std::string> CommandLine::words() const {
    return {begin(), end()};
}

std::string CommandLine::joined(std::string_view separator) const {
    std::string out;
    for (size_t i = 0; i < size(); ++i) {
        if (i) out += separator;
        out += (*this)[i];
    }
    return out;
}

bool CommandLine::same_words(std::span<const std::string_view> words) const {
    if (words.size() != size()) return false;
    for (size_t i = 0; i < words.size(); ++i) {
        if ((*this)[i] != words[i]) return false;
    }
    return true;
}

bool operator==(const CommandLine& a, const CommandLine& b) {
    if (a.s_ == b.s_) return true;
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

bool operator==(const CommandLine& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

std::ostream& operator<<(std::ostream& out, const CommandLine& line) {
    out << '{';
    for (size_t i = 0; i < line.size(); ++i) out << (i ? ", \"" : "\"") << line[i] << '"';
    return out << '}';
}

CommandLine CommandLineTable::intern(const wire::TextList& list, bool* truncated) {
    scratch_.clear();
    if (list.source() == wire::TextList::Source::kEncoded) scratch_.reserve(list.count());
    bool cut = list.for_each([&](std::string_view w) { scratch_.push_back(w); });
    if (truncated) *truncated = cut;
    return intern(std::span<const std::string_view>(scratch_));
}

CommandLine CommandLineTable::intern(const std::vector<std::string>& words) {
    std::vector<std::string_view> views(words.begin(), words.end());
    return intern(std::span<const std::string_view>(views));
}

CommandLine CommandLineTable::intern(std::span<const std::string_view> words) {
    if (words.empty()) return {};
    if (2 * (lines_ + 1) > slots_.size()) grow();
    size_t hash = hash_of_words(words);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        Slot& slot = slots_[i];
        if (slot.line.empty()) {
            slot.hash = hash;
            slot.line = kept(words);
            ++lines_;
            return slot.line;
        }
        if (slot.hash == hash && slot.line.same_words(words)) return slot.line;
    }
}

CommandLineTable::~CommandLineTable() {
    if (block_) CommandLine::release(block_);
}

CommandLine CommandLineTable::kept(std::span<const std::string_view> words) {
    size_t bytes = (CommandLine::bytes_for(words) + 3) & ~size_t{3};  // the next one aligned
    if (bytes > kLargestBlockBytes / 4) return CommandLine(words);
    if (block_ == nullptr || block_used_ + bytes > block_bytes_) {
        block_bytes_ = block_ ? std::min(2 * block_bytes_, kLargestBlockBytes) : kFirstBlockBytes;
        while (sizeof(CommandLine::Block) + bytes > block_bytes_) block_bytes_ *= 2;
        if (block_) CommandLine::release(block_);
        block_ = new (::operator new(block_bytes_)) CommandLine::Block{{1}};
        block_used_ = sizeof(CommandLine::Block);
    }
    CommandLine line;
    line.s_ = CommandLine::made_in(block_, block_used_, words);
    block_->refs.fetch_add(1, std::memory_order_relaxed);  // the line's
    block_used_ += bytes;
    return line;
}

void CommandLineTable::grow() {
    std::vector<Slot> old =
        std::exchange(slots_, std::vector<Slot>(std::max<size_t>(1024, 2 * slots_.size())));
    size_t mask = slots_.size() - 1;
    for (Slot& s : old) {
        if (s.line.empty()) continue;
        size_t i = s.hash & mask;
        while (!slots_[i].line.empty()) i = (i + 1) & mask;
        slots_[i] = std::move(s);
    }
}

}  // namespace cowtrace::model
