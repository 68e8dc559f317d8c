// A command line as the model keeps it: an immutable list of words, shared by every process and
// exec that ran the same one. A build runs the same compiler line thousands of times, and each
// process names its command line twice (its hello's and its exec's): as owned vectors of strings
// they were the largest part of the model (about 300 bytes a process, issue 15).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cowtrace::wire {
class TextList;
}

namespace cowtrace::model {

class CommandLine {
    struct Storage;
    struct Block;

public:
    // Reads the words by index: a pointer to the line and a position.
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        iterator() = default;
        iterator(const CommandLine* line, size_t i) : line_(line), i_(i) {}
        std::string_view operator*() const { return (*line_)[i_]; }
        std::string_view operator[](difference_type n) const { return (*line_)[i_ + n]; }
        iterator& operator++() { return ++i_, *this; }
        iterator operator++(int) { return {line_, i_++}; }
        iterator& operator--() { return --i_, *this; }
        iterator operator--(int) { return {line_, i_--}; }
        iterator& operator+=(difference_type n) { return i_ += n, *this; }
        iterator& operator-=(difference_type n) { return i_ -= n, *this; }
        iterator operator+(difference_type n) const { return {line_, i_ + n}; }
        friend iterator operator+(difference_type n, const iterator& it) { return it + n; }
        iterator operator-(difference_type n) const { return {line_, i_ - n}; }
        difference_type operator-(const iterator& o) const {
            return static_cast<difference_type>(i_) - static_cast<difference_type>(o.i_);
        }
        bool operator==(const iterator& o) const { return i_ == o.i_; }
        auto operator<=>(const iterator& o) const { return i_ <=> o.i_; }

    private:
        const CommandLine* line_ = nullptr;
        size_t i_ = 0;
    };

    CommandLine() = default;  // no words
    // A line of its own, not interned (tests, the trace's command): CommandLineTable shares.
    CommandLine(std::span<const std::string_view> words);
    CommandLine(const std::vector<std::string>& words);
    CommandLine(std::initializer_list<std::string_view> words)
        : CommandLine(std::span<const std::string_view>(words.begin(), words.size())) {}

    CommandLine(const CommandLine& o) noexcept : s_(o.s_) { retain(); }
    CommandLine(CommandLine&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    CommandLine& operator=(const CommandLine& o) noexcept;
    CommandLine& operator=(CommandLine&& o) noexcept;
    ~CommandLine() { release(); }

    size_t size() const;
    bool empty() const { return s_ == nullptr; }
    std::string_view operator[](size_t i) const;
    std::string_view front() const { return (*this)[0]; }
    std::string_view back() const { return (*this)[size() - 1]; }
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, size()}; }
    std::vector<std::string> words() const;  // a copy, for whatever wants strings
    std::string joined(std::string_view separator = " ") const;

    // The same storage: interned lines are compared by this.
    bool shares_storage_with(const CommandLine& o) const { return s_ == o.s_; }

    friend bool operator==(const CommandLine& a, const CommandLine& b);
    friend bool operator==(const CommandLine& a, const std::vector<std::string>& b);

private:
    friend class CommandLineTable;
    bool same_words(std::span<const std::string_view> words) const;
    void retain() const;
    void release();
    static void release(Block* block);
    // The bytes a line of these words takes in a block, and the line made there (at `offset`
    // bytes from the block's start, which must be a multiple of 4); the caller holds a reference
    // on the block for it.
    static size_t bytes_for(std::span<const std::string_view> words);
    static Storage* made_in(Block* block, size_t offset, std::span<const std::string_view> words);

    Storage* s_ = nullptr;  // null: no words
};

std::ostream& operator<<(std::ostream& out, const CommandLine& line);  // for test messages

// Any other list of sentences the build shares the same way: a fork episode's approximations.
using SentenceList = CommandLine;

// The hash CommandLineTable files a list of words under: of each word and of their order.
size_t hash_of_words(std::span<const std::string_view> words);

// Hands out one CommandLine per distinct list of words: the model's build interns every command
// line it reads, so equal lines share their storage. Lives for the build only; the lines outlive
// it.
class CommandLineTable {
public:
    CommandLineTable() = default;
    CommandLineTable(const CommandLineTable&) = delete;
    CommandLineTable& operator=(const CommandLineTable&) = delete;
    ~CommandLineTable();

    // The list's words; *truncated, if given, is set to the list's "truncated" flag.
    CommandLine intern(const wire::TextList& list, bool* truncated = nullptr);
    CommandLine intern(const std::vector<std::string>& words);
    CommandLine intern(std::span<const std::string_view> words);
    size_t size() const { return lines_; }

private:
    // Open addressing with linear probing, at most half full. A slot keeps its line's hash so
    // that neither a probe past other lines nor growth reads their storage: std::unordered_set
    // allocated a node per line and rehashed through them, and interning made the 100,000-process
    // report 15 % slower.
    struct Slot {
        size_t hash = 0;
        CommandLine line;  // no words: free
    };
    void grow();
    // A new line, in the block being filled: an allocation of its own each cost malloc's header
    // and rounding, about 12 bytes of a build's typical 70-byte line (issue 15).
    CommandLine kept(std::span<const std::string_view> words);

    // Lines are kept many to a block, blocks doubling from the first size to the largest (a line
    // larger than a quarter of that alone): one block's unused end is left when the build ends,
    // small for a build of few distinct lines (a shell loop's), at most the largest for many.
    static constexpr size_t kFirstBlockBytes = 1 << 10;
    static constexpr size_t kLargestBlockBytes = 16 << 10;
    CommandLine::Block* block_ = nullptr;  // being filled; the table holds a reference on it
    size_t block_bytes_ = 0;
    size_t block_used_ = 0;

    std::vector<Slot> slots_;
    size_t lines_ = 0;
    std::vector<std::string_view> scratch_;  // the words of the list being interned
};

}  // namespace cowtrace::model
