// The streaming JSON writer against nlohmann::json's dump(2, ' ', false, replace), which the JSON
// report used to be, byte for byte.
#include "report/json_stream.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

namespace cowtrace::report {
namespace {

using nlohmann::json;

std::string dumped(const json& j) {
    return j.dump(2, ' ', false, json::error_handler_t::replace);
}

template <class Write>
std::string streamed(Write write) {
    std::ostringstream out;
    {
        JsonStream s(out);
        write(s);
    }
    return out.str();
}

std::string streamed_string(const std::string& text) {
    return streamed([&](JsonStream& s) { s.string(text); });
}

TEST(JsonStream, QuotesBackslashesAndControlCharactersAreEscapedAsNlohmannDoes) {
    std::string text = "a\"b\\c/d";
    for (int c = 0; c < 0x20; ++c) text.push_back(static_cast<char>(c));
    text += "\x7f end";
    EXPECT_EQ(streamed_string(text), dumped(json(text)));
    EXPECT_EQ(streamed_string("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    EXPECT_EQ(streamed_string(std::string("\0\x1f", 2)), "\"\\u0000\\u001f\"");
}

TEST(JsonStream, ValidUtf8IsWrittenAsIs) {
    std::string text = "pid 7 — naïve ✓ 𝄞 \xef\xbf\xbd";
    EXPECT_EQ(streamed_string(text), "\"" + text + "\"");
    EXPECT_EQ(streamed_string(text), dumped(json(text)));
}

TEST(JsonStream, EachInvalidUtf8SequenceBecomesOneReplacementCharacter) {
    const std::string cases[] = {
        "\xff",              // never valid
        "a\x80z",            // a lone continuation byte
        "\xc3",              // cut short at the end
        "\xe2\x82",          // cut short after two of three
        "\xe2\x82z",         // broken by an ASCII byte, which stays
        "\xe2\xe2\x82\xac",  // broken by the start of a good sequence, which stays
        "\xc0\xaf",          // overlong
        "\xe0\x80\xaf",      // overlong, three bytes
        "\xed\xa0\x80",      // a surrogate
        "\xf4\x90\x80\x80",  // past U+10FFFF
        "\xf0\x9f\x98",      // four-byte sequence cut short
        "ok\xf5\x80\x80\x80ok",
    };
    for (const auto& text : cases) {
        EXPECT_EQ(streamed_string(text), dumped(json(text)))
            << json(text).dump(-1, ' ', true, json::error_handler_t::replace);
    }
    EXPECT_EQ(streamed_string("a\x80z"), "\"a\xef\xbf\xbdz\"");
}

TEST(JsonStream, RandomBytesAreEscapedAsNlohmannDoes) {
    std::mt19937 random(15);
    // Weighted to the bytes that make UTF-8 interesting.
    const uint8_t alphabet[] = {'a',  '"',  '\\', 0x01, 0x1f, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef,
                                0xf0, 0xf1, 0xf4, 0xf5, 0xff, 0xbd, 0x82, 0xac, 0xe2, 0x98};
    std::uniform_int_distribution<size_t> pick(0, sizeof alphabet - 1), length(0, 12);
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        for (size_t n = length(random); n > 0; --n)
            text.push_back(static_cast<char>(alphabet[pick(random)]));
        ASSERT_EQ(streamed_string(text), dumped(json(text))) << "round " << round;
    }
}

TEST(JsonStream, LargeIntegersAreWrittenWhole) {
    std::string got = streamed([](JsonStream& s) {
        s.begin_array();
        s.number(std::numeric_limits<uint64_t>::max());
        s.number(std::numeric_limits<int64_t>::min());
        s.number(std::numeric_limits<int64_t>::max());
        s.number(0);
        s.number(-1);
        s.number(size_t{42});
        s.end_array();
    });
    json want =
        json::array({std::numeric_limits<uint64_t>::max(), std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max(), 0, -1, size_t{42}});
    EXPECT_EQ(got, dumped(want));
    EXPECT_NE(got.find("18446744073709551615"), std::string::npos);
}

TEST(JsonStream, FloatingPointIsWrittenAsNlohmannDoes) {
    const double values[] = {0.0,     -0.0,  1.0,  0.999,  1.01,    0.5,     123.456,
                             1e-4,    1e-5,  1e15, 1e14,   1.5e20,  2.5e-10, -3.25,
                             1.0 / 3, 100.0, 1e21, 0.0123, 1234567, 1e300};
    for (double v : values) {
        EXPECT_EQ(streamed([v](JsonStream& s) { s.number(v); }), dumped(json(v))) << v;
    }
    EXPECT_EQ(streamed([](JsonStream& s) { s.number(std::numeric_limits<double>::quiet_NaN()); }),
              "null");
}

TEST(JsonStream, NestedContainersAreIndentedAsNlohmannDoes) {
    std::string got = streamed([](JsonStream& s) {
        s.begin_object();
        s.key("a").begin_array();
        s.begin_array();
        s.end_array();
        s.begin_array();
        s.begin_object();
        s.end_object();
        s.begin_object();
        s.key("deep").begin_array();
        s.begin_array();
        s.number(1);
        s.boolean(true);
        s.null();
        s.end_array();
        s.end_array();
        s.end_object();
        s.end_array();
        s.end_array();
        s.key("b").string("x");
        s.key("c").begin_object();
        s.end_object();
        s.end_object();
    });
    json want = json::parse(R"({"a": [[], [{}, {"deep": [[1, true, null]]}]], "b": "x", "c": {}})");
    EXPECT_EQ(got, dumped(want));
    EXPECT_EQ(json::parse(got), want);
}

TEST(JsonStream, ADocumentLargerThanTheBufferArrivesWhole) {
    json want = json::array();
    std::string got = streamed([&](JsonStream& s) {
        s.begin_array();
        for (int i = 0; i < 50000; ++i) {
            std::string text = "entry " + std::to_string(i);
            s.string(text);
            want.push_back(text);
        }
        s.end_array();
    });
    EXPECT_GT(got.size(), size_t{1} << 19);  // several times the stream's buffer
    EXPECT_EQ(got, dumped(want));
}

}  // namespace
}  // namespace cowtrace::report
