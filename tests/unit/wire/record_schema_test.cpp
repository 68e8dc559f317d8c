// The schema (lib/wire/shim_records.hpp, collector_records.hpp) is the only definition of each
// record's layout: every record type survives encoding and decoding with every field intact,
// reads from an older writer (trailing fields missing) keep the defaults, and docs/FORMAT.md
// lists the same fields in the same order.
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "wire/all_records.hpp"

namespace cowtrace::wire {
namespace {

// Gives each field a value of its own (from a counter), so a field read into its neighbour's
// place shows. Strings and lists live in the filler, which must outlive the record.
class FieldFiller {
public:
    template <FixedField T>
    void operator()(T& v) {
        if constexpr (std::is_same_v<T, bool>) {
            v = true;
        } else {
            v = static_cast<T>(++next_ + 0x40);
        }
    }
    void operator()(Text& t, size_t = 0) { t = keep("text" + std::to_string(++next_)); }
    void operator()(TextList& l, size_t = 0) {
        auto& ptrs = lists_.emplace_back();
        for (int i = 0; i < 3; ++i) ptrs.push_back(keep("item" + std::to_string(++next_)).data());
        ptrs.push_back(nullptr);
        l = TextList::of_array(ptrs.data());
    }
    template <class T>
    void operator()(NumberList<T>& l) {
        auto& bytes = numbers_.emplace_back(4 * sizeof(T));
        T* values = reinterpret_cast<T*>(bytes.data());
        for (int i = 0; i < 4; ++i) values[i] = static_cast<T>(++next_ * 1000003 + 7);
        l = NumberList<T>(values, 4);
    }
    template <class Item, class Count>
    void operator()(ItemList<Item, Count>& l) {
        auto* items = new Item[2];  // freed with the filler
        owned_.push_back([items] { delete[] items; });
        for (int i = 0; i < 2; ++i) Item::fields(items[i], *this);
        l = ItemList<Item, Count>(items, 2);
    }
    ~FieldFiller() {
        for (auto& free : owned_) free();
    }

private:
    const std::string& keep(std::string s) { return strings_.emplace_back(std::move(s)); }
    uint64_t next_ = 0;
    std::deque<std::string> strings_;
    std::deque<std::vector<const char*>> lists_;
    std::deque<std::vector<uint8_t>> numbers_;
    std::vector<std::function<void()>> owned_;
};

// Every field's value, in order, as text: two records are equal when these are.
class FieldPrinter {
public:
    template <FixedField T>
    void operator()(const T& v) {
        if constexpr (std::is_enum_v<T>) {
            add(std::to_string(static_cast<std::underlying_type_t<T>>(v)));
        } else {
            add(std::to_string(v));
        }
    }
    void operator()(const Text& t, size_t = 0) {
        std::string quoted(1, '\'');
        quoted.append(t.view()).push_back('\'');
        add(quoted);
    }
    void operator()(const TextList& l, size_t = 0) {
        std::string out = "[";
        bool truncated = l.for_each([&](std::string_view s) { out += std::string(s) + ","; });
        add(out + (truncated ? "…" : "") + "]");
    }
    template <class T>
    void operator()(const NumberList<T>& l) {
        std::string out = "<";
        l.for_each([&](T v) { out += std::to_string(v) + ","; });
        add(out + ">");
    }
    template <class Item, class Count>
    void operator()(const ItemList<Item, Count>& l) {
        std::string out = "{";
        l.for_each([&](const Item& item) {
            FieldPrinter inner;
            Item::fields(item, inner);
            for (const auto& f : inner.fields) out += f + "|";
            out += ";";
        });
        add(out + "}");
    }
    std::vector<std::string> fields;

private:
    void add(std::string s) { fields.push_back(std::move(s)); }
};

template <class R>
std::vector<std::string> printed(const R& r) {
    FieldPrinter p;
    R::fields(r, p);
    return p.fields;
}

// Where each field ends in an encoded payload.
class FieldEnds {
public:
    explicit FieldEnds(WireWriter& w) : w_(w), encoder_(w) {}
    template <class... Args>
    void operator()(const Args&... args) {
        encoder_(args...);
        ends.push_back(w_.size() - sizeof(RecordHeader));
    }
    std::vector<size_t> ends;

private:
    WireWriter& w_;
    FieldEncoder encoder_;
};

// The field types in docs/FORMAT.md's words: u8 … i64, str, strlist, u64list, i32list, and
// items(…) for a counted list of sub-records.
class FieldTypeNames {
public:
    template <FixedField T>
    void operator()(const T&) {
        using U = typename std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>,
                                              std::type_identity<T>>::type;
        if constexpr (std::is_same_v<U, bool>) {
            names.push_back("u8");
        } else {
            std::string name(std::is_signed_v<U> ? "i" : "u");
            name.append(std::to_string(sizeof(U) * 8));
            names.push_back(name);
        }
    }
    void operator()(const Text&, size_t = 0) { names.push_back("str"); }
    void operator()(const TextList&, size_t = 0) { names.push_back("strlist"); }
    void operator()(const U64List&) { names.push_back("u64list"); }
    void operator()(const I32List&) { names.push_back("i32list"); }
    template <class Item, class Count>
    void operator()(const ItemList<Item, Count>&) {
        FieldTypeNames inner;
        const Item blank{};
        Item::fields(blank, inner);
        std::string joined = "items(";
        for (size_t i = 0; i < inner.names.size(); ++i) joined += (i ? " " : "") + inner.names[i];
        names.push_back(joined + ")");
    }
    std::vector<std::string> names;
};

TEST(RecordSchema, EveryRecordTypeRoundTripsWithEveryField) {
    AllRecords::for_each([]<class R>() {
        FieldFiller filler;
        R sent;
        R::fields(sent, filler);
        std::vector<uint8_t> buf(kMaxRecordSize);
        RecordStamp stamp{kFromSpool, 4242, 4243, 99, 7};
        size_t n = encode_record(sent, stamp, buf.data(), buf.size());
        ASSERT_GT(n, sizeof(RecordHeader)) << static_cast<int>(R::kType);
        RecordHeader h;
        memcpy(&h, buf.data(), sizeof h);
        EXPECT_EQ(h.size, n);
        EXPECT_EQ(h.type, static_cast<uint16_t>(R::kType));
        EXPECT_EQ(h.pid, 4242);
        EXPECT_EQ(h.seq, 7u);
        R received;
        EXPECT_TRUE(decode_payload(buf.data() + sizeof h, n - sizeof h, received));
        EXPECT_EQ(printed(received), printed(sent)) << "record type " << static_cast<int>(R::kType);
    });
}

TEST(RecordSchema, ShimRecordsFitTheirStackBuffers) {
    // The shim encodes on the stack with R::kMaxBytes: a record with every field filled as the
    // filler does (short strings) must fit, and the largest may not exceed one channel message.
    AllRecords::for_each([]<class R>() {
        if constexpr (requires { R::kMaxBytes; }) {
            EXPECT_LE(R::kMaxBytes, kMaxShimRecordSize);
            FieldFiller filler;
            R r;
            R::fields(r, filler);
            std::vector<uint8_t> buf(R::kMaxBytes);
            EXPECT_NE(encode_record(r, {}, buf.data(), buf.size()), 0u);
        }
    });
}

TEST(RecordSchema, RecordsFromAnOlderWriterKeepTheDefaultsOfMissingFields) {
    // Cut a record after each of its fields: what remains decodes, its fields as sent, and the
    // rest reads as the struct's defaults — the rule that lets old traces and libraries work.
    AllRecords::for_each([]<class R>() {
        FieldFiller filler;
        R sent;
        R::fields(sent, filler);
        std::vector<uint8_t> buf(kMaxRecordSize);
        WireWriter w(buf.data(), buf.size());
        FieldEnds ends(w);
        R::fields(sent, ends);
        const uint8_t* payload = buf.data() + sizeof(RecordHeader);
        std::vector<std::string> full = printed(sent), defaults = printed(R{});
        ends.ends.insert(ends.ends.begin(), 0);
        for (size_t k = 0; k < ends.ends.size(); ++k) {
            R cut;
            EXPECT_TRUE(decode_payload(payload, ends.ends[k], cut));
            std::vector<std::string> expected(full.begin(), full.begin() + k);
            expected.insert(expected.end(), defaults.begin() + k, defaults.end());
            EXPECT_EQ(printed(cut), expected)
                << "record type " << static_cast<int>(R::kType) << " cut after " << k << " fields";
        }
    });
}

TEST(RecordSchema, EveryTypeNumberIsUsedOnce) {
    std::map<uint16_t, int> seen;
    for (RecordType t : AllRecords::kTypes) ++seen[static_cast<uint16_t>(t)];
    for (auto [type, count] : seen) EXPECT_EQ(count, 1) << type;
    for (RecordType t : AllRecords::kTypes) {
        uint16_t type = static_cast<uint16_t>(t);
        bool shim = type >= 20 && type < 40;
        EXPECT_EQ(is_shim_record(type), shim) << type;
    }
}

// docs/FORMAT.md's record tables: "| number | Name | fields |", each field "type description",
// separated by commas outside parentheses.
std::map<int, std::pair<std::string, std::vector<std::string>>> documented_records() {
    std::ifstream in(std::string(COWTRACE_SOURCE_DIR) + "/docs/FORMAT.md");
    std::map<int, std::pair<std::string, std::vector<std::string>>> out;
    std::regex row(R"(^\| (\d+) \| (\w+) \| (.*) \|$)");
    std::string line;
    auto types_of = [](const std::string& fields) {
        std::vector<std::string> items;
        std::string current;
        int depth = 0;
        for (char c : fields + ",") {
            if (c == '(') ++depth;
            if (c == ')') --depth;
            if (c == ',' && depth == 0) {
                items.push_back(current);
                current.clear();
            } else {
                current += c;
            }
        }
        std::vector<std::string> types;
        for (std::string item : items) {
            size_t start = item.find_first_not_of(' ');
            if (start == std::string::npos) continue;
            item = item.substr(start);
            std::string word = item.substr(0, item.find_first_of(" ("));
            if (word.empty() || word[0] == '(') continue;  // "(pid = child)": about the header
            if (word == "items") {
                // items u32 × (str name, u64 …): the sub-record's types, in the same notation.
                size_t open = item.find('('), close = item.rfind(')');
                std::string inner = item.substr(open + 1, close - open - 1);
                std::string joined = "items(";
                std::stringstream parts(inner);
                std::string part;
                bool first = true;
                while (std::getline(parts, part, ',')) {
                    size_t s = part.find_first_not_of(' ');
                    if (!first) joined.push_back(' ');
                    joined.append(part.substr(s, part.find(' ', s) - s));
                    first = false;
                }
                types.push_back(joined + ")");
                continue;
            }
            types.push_back(word);
        }
        return types;
    };
    bool in_record_types = false;
    while (std::getline(in, line)) {
        if (line.starts_with("## ")) in_record_types = line.starts_with("## Record types");
        std::smatch m;
        if (!in_record_types || !std::regex_match(line, m, row)) continue;
        out[std::stoi(m[1])] = {m[2], types_of(m[3])};
    }
    return out;
}

TEST(RecordSchema, FormatDocumentationListsTheSchemasFieldsInOrder) {
    auto documented = documented_records();
    ASSERT_FALSE(documented.empty()) << "docs/FORMAT.md has no record tables";
    size_t checked = 0;
    AllRecords::for_each([&]<class R>() {
        int type = static_cast<int>(R::kType);
        auto it = documented.find(type);
        ASSERT_NE(it, documented.end()) << "record type " << type << " is not in docs/FORMAT.md";
        FieldTypeNames names;
        const R blank{};
        R::fields(blank, names);
        EXPECT_EQ(it->second.second, names.names)
            << "docs/FORMAT.md, type " << type << " (" << it->second.first << ")";
        ++checked;
    });
    EXPECT_EQ(checked, documented.size()) << "docs/FORMAT.md documents a type the schema lacks";
}

}  // namespace
}  // namespace cowtrace::wire
