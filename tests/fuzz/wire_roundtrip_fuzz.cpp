// libFuzzer target: WireWriter into a buffer of any size, then WireReader on what it wrote.
// The writer must never write past its buffer (ASan watches the exact-size allocation), and a
// record it finishes must read back field for field: numbers equal, strings whole or, where
// the writer said it cut them, a prefix.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "wire/wire_reader.hpp"
#include "wire/wire_writer.hpp"

namespace {

using cowtrace::wire::RecordHeader;
using cowtrace::wire::RecordType;
using cowtrace::wire::WireReader;
using cowtrace::wire::WireWriter;

void require(bool ok) {
    if (!ok) abort();
}

bool is_prefix(std::string_view part, const std::string& whole) {
    return part.size() <= whole.size() && whole.compare(0, part.size(), part) == 0;
}

struct Written {
    enum Kind { kNumber, kString, kList, kFrames } kind;
    uint64_t number = 0;
    int width = 0;  // bytes of a number
    std::string text;
    bool cut = false;  // the writer said it cut the string
    std::vector<std::string> items;
    std::vector<uint64_t> frames;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    size_t capacity = in.ConsumeIntegralInRange<size_t>(0, 512);
    auto buf = std::make_unique<uint8_t[]>(capacity);  // exact size: ASan flags any overrun
    WireWriter w(buf.get(), capacity);
    std::vector<Written> fields;
    while (in.remaining_bytes() > 0 && fields.size() < 32) {
        Written f{};
        switch (in.ConsumeIntegralInRange<int>(0, 6)) {
            case 0:
                f = {Written::kNumber, in.ConsumeIntegral<uint8_t>(), 1};
                w.u8(static_cast<uint8_t>(f.number));
                break;
            case 1:
                f = {Written::kNumber, in.ConsumeIntegral<uint16_t>(), 2};
                w.u16(static_cast<uint16_t>(f.number));
                break;
            case 2:
                f = {Written::kNumber, in.ConsumeIntegral<uint32_t>(), 4};
                w.u32(static_cast<uint32_t>(f.number));
                break;
            case 3:
                f = {Written::kNumber, in.ConsumeIntegral<uint64_t>(), 8};
                w.u64(f.number);
                break;
            case 4: {
                f.kind = Written::kString;
                f.text = in.ConsumeRandomLengthString(300);
                size_t max_len = in.ConsumeIntegralInRange<size_t>(0, 400);
                f.cut = w.str(f.text.data(), f.text.size(), max_len);
                break;
            }
            case 5: {
                f.kind = Written::kList;
                size_t n = in.ConsumeIntegralInRange<size_t>(0, 8);
                for (size_t i = 0; i < n; ++i) {
                    std::string s = in.ConsumeRandomLengthString(64);
                    f.items.push_back(s.substr(0, s.find('\0')));  // C strings
                }
                std::vector<const char*> ptrs;
                for (const auto& s : f.items) ptrs.push_back(s.c_str());
                ptrs.push_back(nullptr);
                w.strlist(ptrs.data(), in.ConsumeIntegralInRange<size_t>(0, 300));
                break;
            }
            case 6: {
                f.kind = Written::kFrames;
                size_t n = in.ConsumeIntegralInRange<size_t>(0, 40);
                for (size_t i = 0; i < n; ++i) f.frames.push_back(in.ConsumeIntegral<uint64_t>());
                w.u64list(f.frames.data(), f.frames.size());
                break;
            }
        }
        fields.push_back(std::move(f));
    }
    size_t n = w.finish(RecordType::kHello, 0, 1, 1, 2, 3);
    require(n <= capacity);
    if (n == 0) return 0;
    require(n >= sizeof(RecordHeader));

    WireReader r(buf.get() + sizeof(RecordHeader), n - sizeof(RecordHeader));
    for (const auto& f : fields) {
        switch (f.kind) {
            case Written::kNumber: {
                uint64_t got = f.width == 1   ? r.u8()
                               : f.width == 2 ? r.u16()
                               : f.width == 4 ? r.u32()
                                              : r.u64();
                require(got == f.number);
                break;
            }
            case Written::kString: {
                std::string_view s = r.str();
                require(f.cut ? is_prefix(s, f.text) : s == f.text);
                break;
            }
            case Written::kList: {
                size_t i = 0;
                bool ok = true, exact = true;
                bool truncated = r.strlist([&](std::string_view s) {
                    ok = ok && i < f.items.size() && is_prefix(s, f.items[i]);
                    exact = exact && ok && s == f.items[i];
                    ++i;
                });
                require(ok);
                if (!truncated) require(exact && i == f.items.size());
                break;
            }
            case Written::kFrames: {
                std::vector<uint64_t> got;
                r.u64list([&](uint64_t v) { got.push_back(v); });
                require(got == f.frames);
                break;
            }
        }
        require(!r.malformed() && !r.exhausted());
    }
    require(r.position() == n - sizeof(RecordHeader));
    return 0;
}
