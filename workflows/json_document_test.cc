#include "workflows/json_document.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tongban {
namespace {

// Parses `text` and fails the test when it is refused.
JsonDocument MustParse(std::string_view text, const JsonParseOptions& options = {}) {
  Result<JsonDocument> result = JsonDocument::Parse(text, nullptr, options);
  EXPECT_TRUE(result.ok()) << result.status().message() << "\n  in: " << text;
  if (!result.ok()) return JsonDocument();
  return std::move(result).value();
}

struct Failure {
  std::string message;
  SourcePosition position;
};

// Parses `text`, expects it to be refused, and returns the message and the position.
Failure MustFail(std::string_view text, const JsonParseOptions& options = {}) {
  SourcePosition position;
  Result<JsonDocument> result = JsonDocument::Parse(text, &position, options);
  EXPECT_FALSE(result.ok()) << "accepted: " << text;
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  return {result.status().message(), position};
}

#define EXPECT_POSITION(position, expected_line, expected_column) \
  do {                                                            \
    SourcePosition p_ = (position);                               \
    EXPECT_EQ(p_.line, expected_line);                            \
    EXPECT_EQ(p_.column, expected_column);                        \
  } while (0)

TEST(JsonDocumentTest, ParsesValuesOfEveryType) {
  JsonDocument doc = MustParse(R"({"s": "x", "i": 3, "f": 2.5, "t": true, "n": null,
                                   "a": [1, "two"], "o": {}})");
  const nlohmann::json& root = doc.root();
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 7u);
  EXPECT_EQ(root["s"], "x");
  EXPECT_EQ(root["i"], 3);
  EXPECT_EQ(root["f"], 2.5);
  EXPECT_EQ(root["t"], true);
  EXPECT_TRUE(root["n"].is_null());
  EXPECT_EQ(root["a"], nlohmann::json({1, "two"}));
  EXPECT_TRUE(root["o"].is_object());
  EXPECT_TRUE(root["o"].empty());
}

TEST(JsonDocumentTest, PositionsOfValuesAndKeysOnSeveralLines) {
  // Line 3 holds CJK characters: every one of them is one column.
  //            1         2
  //   123456789012345678901234
  // 1 {
  // 2   "a": 1,
  // 3   "名字": "值", "b": [true,
  // 4      null],
  // 5   "c": {"d": "e"}
  // 6 }
  const std::string text =
      "{\n"
      "  \"a\": 1,\n"
      "  \"名字\": \"值\", \"b\": [true,\n"
      "     null],\n"
      "  \"c\": {\"d\": \"e\"}\n"
      "}";
  JsonDocument doc = MustParse(text);
  EXPECT_POSITION(doc.PositionOf(""), 1, 1);
  // An object member is located at its key.
  EXPECT_POSITION(doc.PositionOf("/a"), 2, 3);
  EXPECT_POSITION(doc.PositionOf("/名字"), 3, 3);
  // "名字": "值", then "b" starts at column 14: 2 spaces, the quoted key (4 columns), ':', ' ',
  // the quoted value (3 columns), ',', ' '.
  EXPECT_POSITION(doc.PositionOf("/b"), 3, 14);
  // Array elements are located at the value: '[' is column 19, "true" column 20.
  EXPECT_POSITION(doc.PositionOf("/b/0"), 3, 20);
  EXPECT_POSITION(doc.PositionOf("/b/1"), 4, 6);
  EXPECT_POSITION(doc.PositionOf("/c"), 5, 3);
  EXPECT_POSITION(doc.PositionOf("/c/d"), 5, 9);
}

TEST(JsonDocumentTest, CrLfLineEndingsCountAsOneLine) {
  JsonDocument doc = MustParse("{\r\n  \"a\": 1,\r\n\r\n  \"b\": 2\r\n}");
  EXPECT_POSITION(doc.PositionOf("/a"), 2, 3);
  EXPECT_POSITION(doc.PositionOf("/b"), 4, 3);
}

TEST(JsonDocumentTest, PositionFallsBackToNearestKnownAncestor) {
  JsonDocument doc = MustParse("{\n  \"a\": {\n    \"b\": [10, 20]\n  }\n}");
  EXPECT_POSITION(doc.PositionOf("/a/b/1"), 3, 15);
  // Pointers below a scalar, or to members that do not exist, resolve to the nearest ancestor.
  EXPECT_POSITION(doc.PositionOf("/a/b/1/x"), 3, 15);
  EXPECT_POSITION(doc.PositionOf("/a/b/7"), 3, 5);
  EXPECT_POSITION(doc.PositionOf("/a/missing/deeper"), 2, 3);
  EXPECT_POSITION(doc.PositionOf("/nothing"), 1, 1);
  // Text that is not a pointer at all (no leading '/') falls back to the root, without throwing.
  EXPECT_POSITION(doc.PositionOf("a"), 1, 1);
  EXPECT_POSITION(doc.PositionOf("a/b"), 1, 1);
}

TEST(JsonDocumentTest, UnknownPositionsWithoutRecording) {
  JsonParseOptions options;
  options.record_positions = false;
  JsonDocument doc = MustParse("{\"a\": [1, 2]}", options);
  EXPECT_EQ(doc.root()["a"][1], 2);
  EXPECT_FALSE(doc.PositionOf("/a/1").known());
  EXPECT_FALSE(doc.PositionOf("").known());
  // A default-constructed document knows nothing either.
  EXPECT_FALSE(JsonDocument().PositionOf("/a").known());
}

TEST(JsonDocumentTest, PointerTokensAreEscaped) {
  EXPECT_EQ(EscapeJsonPointerToken("plain"), "plain");
  EXPECT_EQ(EscapeJsonPointerToken("a/b"), "a~1b");
  EXPECT_EQ(EscapeJsonPointerToken("m~n"), "m~0n");
  // "~1" in a key is a tilde followed by '1', not an escaped slash: the tilde must become "~0".
  EXPECT_EQ(EscapeJsonPointerToken("~1"), "~01");
  EXPECT_EQ(EscapeJsonPointerToken("/~"), "~1~0");
  EXPECT_EQ(EscapeJsonPointerToken(""), "");
  EXPECT_EQ(JoinJsonPointer("", "a"), "/a");
  EXPECT_EQ(JoinJsonPointer("/a", "b/c"), "/a/b~1c");
  EXPECT_EQ(JoinJsonPointer("/a", size_t{3}), "/a/3");
  EXPECT_EQ(JoinJsonPointer("", ""), "/");
}

TEST(JsonDocumentTest, PositionsUseEscapedPointers) {
  const std::string text = "{\"a/b\": {\"m~n\": 1},\n \"~1\": 2, \"\": 3}";
  JsonDocument doc = MustParse(text);
  EXPECT_EQ(doc.root()["a/b"]["m~n"], 1);
  EXPECT_POSITION(doc.PositionOf("/a~1b"), 1, 2);
  EXPECT_POSITION(doc.PositionOf("/a~1b/m~0n"), 1, 10);
  EXPECT_POSITION(doc.PositionOf("/~01"), 2, 2);
  // The empty key has the pointer "/", distinct from the document itself ("").
  EXPECT_POSITION(doc.PositionOf("/"), 2, 11);
  EXPECT_POSITION(doc.PositionOf(""), 1, 1);
  // The unescaped spelling names a different (absent) path, which falls back to the root.
  EXPECT_POSITION(doc.PositionOf("/m~n"), 1, 1);
}

TEST(JsonDocumentTest, DuplicateKeysAreRefusedWithPosition) {
  Failure f = MustFail("{\n  \"a\": 1,\n  \"b\": {\"x\": 1},\n  \"a\": 2\n}");
  EXPECT_NE(f.message.find("duplicate key \"a\""), std::string::npos) << f.message;
  EXPECT_EQ(f.position.line, 4);
  // The position lies on the repeated key "a" (columns 3 to 5).
  EXPECT_GE(f.position.column, 3);
  EXPECT_LE(f.position.column, 5);

  // Duplicates are found in nested objects too, and keys equal after unescaping are duplicates.
  Failure nested = MustFail("[{\"k\": 1, \"\\u006b\": 2}]");
  EXPECT_NE(nested.message.find("duplicate key \"k\""), std::string::npos) << nested.message;
  EXPECT_EQ(nested.position.line, 1);
  // The same key in different objects is fine.
  MustParse("[{\"k\": 1}, {\"k\": 2}, {\"o\": {\"k\": 3}, \"k\": 4}]");
}

TEST(JsonDocumentTest, DepthLimit) {
  auto nested = [](int depth, char open, char close) {
    return std::string(static_cast<size_t>(depth), open) +
           std::string(static_cast<size_t>(depth), close);
  };
  // 64 levels are allowed, 65 are not (arrays and objects alike).
  MustParse(nested(64, '[', ']'));
  Failure f = MustFail(nested(65, '[', ']'));
  EXPECT_NE(f.message.find("nesting deeper than 64"), std::string::npos) << f.message;
  EXPECT_POSITION(f.position, 1, 65);  // at the 65th '['

  std::string objects;
  for (int i = 0; i < 64; ++i)
    objects += "{\"k\":";
  objects += "1" + std::string(64, '}');
  MustParse(objects);
  std::string deeper;
  for (int i = 0; i < 65; ++i)
    deeper += "{\"k\":";
  deeper += "1" + std::string(65, '}');
  MustFail(deeper);

  // The limit is configurable, and a huge nesting is refused rather than recursed into.
  JsonParseOptions options;
  options.max_depth = 3;
  MustParse("[[[1]]]", options);
  MustFail("[[[[1]]]]", options);
  MustFail(std::string(1000000, '['));
}

TEST(JsonDocumentTest, StringEscapes) {
  JsonDocument doc = MustParse(R"(["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u4e2d", "\u0000"])");
  EXPECT_EQ(doc.root()[0], std::string("\"\\/\b\f\n\r\t"));
  EXPECT_EQ(doc.root()[1], "A\xC3\xA9\xE4\xB8\xAD");  // A, é (U+00E9), 中 (U+4E2D)
  EXPECT_EQ(doc.root()[2].get<std::string>(), std::string(1, '\0'));
}

TEST(JsonDocumentTest, InvalidEscapesAreRefused) {
  EXPECT_NE(MustFail(R"(["\x"])").message.find("invalid escape"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\'"])").message.find("invalid escape"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\u12G4"])").message.find("hex"), std::string::npos);
  MustFail(R"(["\u12"])");
  MustFail("[\"\\");
  // Raw control characters must be escaped.
  Failure control = MustFail("{\"a\": \"line\nbreak\"}");
  EXPECT_NE(control.message.find("control character"), std::string::npos) << control.message;
  MustFail("[\"tab\there\"]");
  MustFail("[\"unterminated]");
}

TEST(JsonDocumentTest, SurrogatePairs) {
  // U+1F600 (grinning face) is D83D DE00 in UTF-16 and F0 9F 98 80 in UTF-8.
  JsonDocument doc = MustParse(R"(["\uD83D\uDE00", "\ud834\udd1e"])");
  EXPECT_EQ(doc.root()[0], "\xF0\x9F\x98\x80");
  // U+1D11E (musical G clef) is D834 DD1E, F0 9D 84 9E; lower-case hex digits work as well.
  EXPECT_EQ(doc.root()[1], "\xF0\x9D\x84\x9E");

  EXPECT_NE(MustFail(R"(["\uD83D"])").message.find("surrogate"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\uDE00"])").message.find("surrogate"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\uD83Dx"])").message.find("surrogate"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\uD83D\u0041"])").message.find("surrogate"), std::string::npos);
  EXPECT_NE(MustFail(R"(["\uD83D\uD83D"])").message.find("surrogate"), std::string::npos);
}

TEST(JsonDocumentTest, Utf8InStrings) {
  // Two-, three- and four-byte sequences at the edges of their ranges.
  JsonDocument doc = MustParse(
      "[\"\xC2\x80\", \"\xDF\xBF\", \"\xE0\xA0\x80\", \"\xED\x9F\xBF\", \"\xEE\x80\x80\", "
      "\"\xEF\xBF\xBF\", \"\xF0\x90\x80\x80\", \"\xF4\x8F\xBF\xBF\", \"中文😀\"]");
  EXPECT_EQ(doc.root().size(), 9u);
  EXPECT_EQ(doc.root()[8], "中文😀");
  // Whatever the parser accepts, nlohmann can serialise (content hashes dump the parsed JSON).
  EXPECT_NO_THROW(doc.root().dump());
}

TEST(JsonDocumentTest, InvalidUtf8IsRefused) {
  const std::vector<std::string> bad = {
      "[\"\x80\"]",              // a continuation byte without a lead
      "[\"\xFF\"]",              // never valid
      "[\"\xC3\"]",              // a truncated two-byte sequence (the quote is not a continuation)
      "[\"\xC3",                 // truncated at the end of the input
      "[\"\xC0\xAF\"]",          // overlong '/'
      "[\"\xC1\xBF\"]",          // overlong
      "[\"\xE0\x80\xAF\"]",      // overlong three-byte form of '/'
      "[\"\xE0\x9F\xBF\"]",      // overlong (below U+0800)
      "[\"\xED\xA0\x80\"]",      // an encoded surrogate (U+D800)
      "[\"\xED\xBF\xBF\"]",      // an encoded surrogate (U+DFFF)
      "[\"\xF0\x80\x80\x80\"]",  // overlong four-byte form
      "[\"\xF0\x8F\xBF\xBF\"]",  // overlong (below U+10000)
      "[\"\xF4\x90\x80\x80\"]",  // above U+10FFFF
      "[\"\xF5\x80\x80\x80\"]",  // lead byte above F4
      "[\"\xE4\xB8\"]",          // truncated 中
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE(testing::PrintToString(text));
    Failure f = MustFail(text);
    EXPECT_NE(f.message.find("UTF-8"), std::string::npos) << f.message;
  }
}

TEST(JsonDocumentTest, IntegersAndFloats) {
  JsonDocument doc = MustParse(
      "[0, -0, 42, -7, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1.5, "
      "-0.25, 1e3, 2E-2, 1.0, 5e+1]");
  const nlohmann::json& a = doc.root();
  EXPECT_TRUE(a[0].is_number_integer());
  EXPECT_EQ(a[0], 0);
  EXPECT_TRUE(a[1].is_number_integer());
  EXPECT_TRUE(a[2].is_number_integer());
  EXPECT_EQ(a[2].get<int64_t>(), 42);
  EXPECT_EQ(a[3].get<int64_t>(), -7);
  EXPECT_TRUE(a[4].is_number_integer());
  EXPECT_EQ(a[4].get<int64_t>(), INT64_MAX);
  EXPECT_EQ(a[5].get<int64_t>(), INT64_MIN);
  // Beyond int64 an integer literal becomes a floating-point number rather than wrapping.
  EXPECT_TRUE(a[6].is_number_float());
  EXPECT_DOUBLE_EQ(a[6].get<double>(), 9223372036854775808.0);
  for (size_t i = 7; i < a.size(); ++i)
    EXPECT_TRUE(a[i].is_number_float()) << i;
  EXPECT_DOUBLE_EQ(a[7].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(a[8].get<double>(), -0.25);
  EXPECT_DOUBLE_EQ(a[9].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(a[10].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(a[11].get<double>(), 1.0);  // "1.0" is a float, not an integer
  EXPECT_DOUBLE_EQ(a[12].get<double>(), 50.0);
}

TEST(JsonDocumentTest, MalformedNumbersAreRefused) {
  for (const char* text : {"[01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]", "[1e+]", "[0x10]",
                           "[1.2.3]", "[- 1]", "[NaN]", "[Infinity]"}) {
    SCOPED_TRACE(text);
    MustFail(text);
  }
  Failure huge = MustFail("[1e400]");
  EXPECT_NE(huge.message.find("out of range"), std::string::npos) << huge.message;
}

TEST(JsonDocumentTest, LiteralsAndSyntaxErrors) {
  JsonDocument doc = MustParse(" \t\n true \n");
  EXPECT_EQ(doc.root(), true);
  EXPECT_EQ(MustParse("false").root(), false);
  EXPECT_TRUE(MustParse("null").root().is_null());
  EXPECT_EQ(MustParse("\"just a string\"").root(), "just a string");
  MustFail("");
  MustFail("   \n  ");
  MustFail("nul");
  MustFail("True");
  MustFail("[1, 2,]");
  MustFail("{\"a\": 1,}");
  MustFail("{\"a\" 1}");
  MustFail("{a: 1}");
  MustFail("[1 2]");
  MustFail("{\"a\": 1");
  MustFail("[");
  MustFail("// comment\n{}");
  Failure f = MustFail("{\n  \"a\": 1,\n  \"b\": ?\n}");
  EXPECT_POSITION(f.position, 3, 8);
  // A CJK key before the error: each character is one column.
  Failure cjk = MustFail("{\"名称\": tru}");
  EXPECT_POSITION(cjk.position, 1, 8);
}

TEST(JsonDocumentTest, TrailingGarbageIsRefused) {
  Failure f = MustFail("{} x");
  EXPECT_NE(f.message.find("after the JSON value"), std::string::npos) << f.message;
  EXPECT_POSITION(f.position, 1, 4);
  Failure second = MustFail("{\"a\": 1}\n\n{\"b\": 2}");
  EXPECT_POSITION(second.position, 3, 1);
  MustFail("{\"a\": 1}}");
  MustFail("[1]]");
  MustFail("1 2");
  MustFail("truex");
  // Trailing whitespace is fine.
  MustParse("{\"a\": 1}  \r\n\t\n");
}

TEST(JsonDocumentTest, ByteOrderMarkIsAccepted) {
  JsonDocument doc = MustParse("\xEF\xBB\xBF{\"a\": 1}");
  EXPECT_EQ(doc.root()["a"], 1);
  // The mark is not a column of the text.
  EXPECT_POSITION(doc.PositionOf(""), 1, 1);
  EXPECT_POSITION(doc.PositionOf("/a"), 1, 2);
  // Only at the very start: after whitespace it is garbage.
  MustFail(" \xEF\xBB\xBF{}");
}

TEST(JsonDocumentTest, LongSingleLineDocument) {
  // About 1 MB on one line, as an HTTP body would be. Every element has the same width, so the
  // column of element i is known: 1 for '[' plus i widths, plus 1.
  const std::string element = "{\"k\":\"中\",\"n\":12345}";  // 19 code points (中 is 3 bytes)
  const size_t count = 1024 * 1024 / element.size() + 1;
  std::string text = "[";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) text += ',';
    text += element;
  }
  text += ']';
  ASSERT_GT(text.size(), 1000000u);
  JsonDocument doc = MustParse(text);
  ASSERT_EQ(doc.root().size(), count);
  EXPECT_EQ(doc.root()[count - 1]["n"], 12345);
  const int width = 20;  // 19 code points of the element and one comma
  EXPECT_POSITION(doc.PositionOf("/0"), 1, 2);
  EXPECT_POSITION(doc.PositionOf("/1"), 1, 2 + width);
  const size_t last = count - 1;
  EXPECT_POSITION(doc.PositionOf(JoinJsonPointer("", last)), 1, static_cast<int>(2 + width * last));
  // The key "n" is preceded by {"k":"中", (9 code points) within its element.
  EXPECT_POSITION(doc.PositionOf(JoinJsonPointer(JoinJsonPointer("", last), "n")), 1,
                  static_cast<int>(2 + width * last + 9));
}

// A message says what it found where JSON wanted something else, and stays valid UTF-8 whatever
// the input (the API puts it into a JSON answer, `validate --format json` into its output).
bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

TEST(JsonDocumentTest, AnErrorNamesWhatItFound) {
  struct Case {
    std::string text;
    std::string message;  // the whole message
  };
  const Case cases[] = {
      {"[1] x", "unexpected text after the JSON value, found 'x'"},
      {"{\"a\": 1 \"b\": 2}", "expected ',' or '}' in an object, found '\"'"},
      {"[1 2]", "expected ',' or ']' in an array, found '2'"},
      {"{\"a\" 1}", "expected ':' after a member name, found '1'"},
      {"{a: 1}", "expected a member name in quotes, found 'a'"},
      {"[1,", "expected a value, found the end of the input"},
      {"\x01", "expected a value, found U+0001"},
      {"[\x7F]", "expected a value, found U+007F"},
      {"\xFF", "expected a value, found byte 0xFF (not UTF-8)"},
      {"\xE4\xB8", "expected a value, found byte 0xE4 (not UTF-8)"},      // cut short
      {"\xC0\xAF", "expected a value, found byte 0xC0 (not UTF-8)"},      // overlong '/'
      {"\xED\xA0\x80", "expected a value, found byte 0xED (not UTF-8)"},  // a surrogate
      {"[\xE4\xB8\xAD]", "expected a value, found '\xE4\xB8\xAD' (U+4E2D)"},
      {"[\xF0\x9F\x98\x80]", "expected a value, found '\xF0\x9F\x98\x80' (U+1F600)"},
      {"[\"\\\xE4\xB8\xAD\"]", "invalid escape: a backslash before '\xE4\xB8\xAD' (U+4E2D)"},
      {"[\"\\\xFF\"]", "invalid escape: a backslash before byte 0xFF (not UTF-8)"},
  };
  for (const Case& c : cases) {
    Failure f = MustFail(c.text);
    EXPECT_EQ(f.message, c.message) << "input: " << c.text;
    EXPECT_TRUE(IsUtf8(f.message)) << f.message;
  }
}

// Full-width and typographic punctuation, typed with a Chinese input method left on, is named
// with the ASCII character JSON needs in its place.
TEST(JsonDocumentTest, PunctuationOfAChineseInputMethodIsNamedWithWhatJsonNeeds) {
  struct Case {
    std::string text;
    std::string found;  // the start of what the message says it found
    char needed;
  };
  const Case cases[] = {
      {"\xEF\xBD\x9B\"a\": 1}", "'\xEF\xBD\x9B' (U+FF5B", '{'},  // ｛
      {"{\"a\": 1\xEF\xBD\x9D", "'\xEF\xBD\x9D' (U+FF5D", '}'},  // ｝
      {"\xEF\xBC\xBB"
       "1]",
       "'\xEF\xBC\xBB' (U+FF3B", '['},                    // ［
      {"[1\xEF\xBC\xBD", "'\xEF\xBC\xBD' (U+FF3D", ']'},  // ］
      {"\xE3\x80\x90"
       "1]",
       "'\xE3\x80\x90' (U+3010", '['},                           // 【
      {"[1\xE3\x80\x91", "'\xE3\x80\x91' (U+3011", ']'},         // 】
      {"{\"a\"\xEF\xBC\x9A 1}", "'\xEF\xBC\x9A' (U+FF1A", ':'},  // ：
      {"[1\xEF\xBC\x8C 2]", "'\xEF\xBC\x8C' (U+FF0C", ','},      // ，
      {"[1\xE3\x80\x81 2]", "'\xE3\x80\x81' (U+3001", ','},      // 、
      {"{\xE2\x80\x9C"
       "a\xE2\x80\x9D: 1}",
       "'\xE2\x80\x9C' (U+201C", '"'},  // “a”
      {"[\xE2\x80\x9D"
       "a\"]",
       "'\xE2\x80\x9D' (U+201D", '"'},  // ”
      {"[\xEF\xBC\x82"
       "a\"]",
       "'\xEF\xBC\x82' (U+FF02", '"'},  // ＂
  };
  for (const Case& c : cases) {
    Failure f = MustFail(c.text);
    const std::string expected =
        c.found + ": JSON needs the ASCII '" + c.needed + "'; is a Chinese input method on?)";
    EXPECT_NE(f.message.find(", found " + expected), std::string::npos)
        << "input: " << c.text << "\nmessage: " << f.message;
    EXPECT_TRUE(IsUtf8(f.message)) << f.message;
  }
  // Spaces that are not JSON's: the ideographic space and the no-break space.
  for (const std::string text : {"[1,\xE3\x80\x80 2]", "[1,\xC2\xA0 2]"}) {
    Failure f = MustFail(text);
    EXPECT_NE(f.message.find(": not a space JSON allows; use an ASCII space)"), std::string::npos)
        << f.message;
  }
  // Other characters are named with their code point alone.
  EXPECT_EQ(DescribeJsonCharacter("\xE4\xB8\xAD\xE6\x96\x87"), "'\xE4\xB8\xAD' (U+4E2D)");
  EXPECT_EQ(DescribeJsonCharacter("\xC3\xA9"), "'\xC3\xA9' (U+00E9)");
  EXPECT_EQ(DescribeJsonCharacter(""), "the end of the input");
}

// Whatever byte a document starts with, or stands where a member name, a ':', a ',' or a value is
// wanted, the message is valid UTF-8.
TEST(JsonDocumentTest, EveryByteWhereJsonWantsSomethingElseGivesAUtf8Message) {
  const std::string templates[] = {"@", "{@", "{\"a\"@", "{\"a\":1@", "[1@", "[1,@", "[\"\\@\"]"};
  for (int byte = 0; byte < 256; ++byte) {
    for (const std::string& t : templates) {
      std::string text = t;
      text.replace(text.find('@'), 1, 1, static_cast<char>(byte));
      SourcePosition position;
      Result<JsonDocument> result = JsonDocument::Parse(text, &position);
      if (result.ok()) continue;  // the byte was what JSON wanted there
      EXPECT_TRUE(IsUtf8(result.status().message()))
          << "byte " << byte << " in " << t << ": " << result.status().message();
    }
  }
}

}  // namespace
}  // namespace tongban
