// Tests of the event encoding and hash: canonical, stable, covering every field but transport
// metadata.
#include "engine/event.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"

namespace tongban {
namespace {

using nlohmann::json;

Event SampleEvent() {
  Event e;
  e.case_id = "c0123456789abcdef0123";
  e.seq = 3;
  e.time = ParseTimestamp("2026-03-02T09:00:00.250+08:00").value();
  e.actor = {"rev-1", "reviewer", "dz-approval-bureau", "张三"};
  e.action = "pass";
  e.data = CanonicalJson({{"comment", "材料齐全"}, {"b", 1}});
  e.status = "under_review";
  e.step = "decide";
  e.definition_id = "construction-permit";
  e.definition_version = 1;
  e.prev_hash = std::string(64, 'a');
  e.idempotency_key = "key-1";
  e.hash = ComputeEventHash(e);
  return e;
}

TEST(Event, CanonicalEncodingIsStable) {
  // The encoding is part of the on-disk format: every stored hash depends on it. This is the exact
  // text of version 1; if it has to change, it needs a new version tag, not an edit.
  const std::string expected =
      "tongban-event-v1\n"
      "21:c0123456789abcdef0123\n"
      "1:3\n"
      "13:1772413200250\n"
      "5:rev-1\n"
      "8:reviewer\n"
      "18:dz-approval-bureau\n"
      "4:pass\n"
      "32:{\"b\":1,\"comment\":\"材料齐全\"}\n"
      "12:under_review\n"
      "6:decide\n"
      "19:construction-permit\n"
      "1:1\n"
      "64:" +
      std::string(64, 'a') + "\n";
  EXPECT_EQ(CanonicalEventEncoding(SampleEvent()), expected);
  EXPECT_EQ(CanonicalEventEncoding(SampleEvent()), CanonicalEventEncoding(SampleEvent()));
  EXPECT_EQ(ComputeEventHash(SampleEvent()), ComputeEventHash(SampleEvent()));
  EXPECT_EQ(ComputeEventHash(SampleEvent()).size(), 64u);
  EXPECT_EQ(ComputeEventHash(SampleEvent()).find_first_not_of("0123456789abcdef"),
            std::string::npos);
}

TEST(Event, TheHashOfAKnownEventDoesNotChange) {
  // Pinned, so that a change to the encoding or the hash function cannot go unnoticed.
  Event e = SampleEvent();
  EXPECT_EQ(e.hash, ComputeEventHash(e));
  // SHA-256 of the encoding above, computed independently (Python hashlib).
  EXPECT_EQ(e.hash, "25dec3a7310eef84b604fb9866376e9fb031addb159c8e92a67312181a4ac40f");
}

TEST(Event, ChangingAnyHashedFieldChangesTheHash) {
  const std::string original = ComputeEventHash(SampleEvent());
  const std::vector<std::pair<std::string, std::function<void(Event&)>>> changes = {
      {"case_id", [](Event& e) { e.case_id += "x"; }},
      {"seq", [](Event& e) { e.seq += 1; }},
      {"time", [](Event& e) { e.time += std::chrono::milliseconds(1); }},
      {"actor.id", [](Event& e) { e.actor.id = "rev-2"; }},
      {"actor.role", [](Event& e) { e.actor.role = "approver"; }},
      {"actor.organ", [](Event& e) { e.actor.organ = "other-organ"; }},
      {"action", [](Event& e) { e.action = "deny"; }},
      {"data",
       [](Event& e) {
         e.data = CanonicalJson({{"comment", "材料齐全"}, {"b", 2}});
       }},
      {"status", [](Event& e) { e.status = "approved"; }},
      {"step", [](Event& e) { e.step = ""; }},
      {"definition_id", [](Event& e) { e.definition_id = "food-business-licence"; }},
      {"definition_version", [](Event& e) { e.definition_version = 2; }},
      {"prev_hash", [](Event& e) { e.prev_hash = std::string(64, 'b'); }},
  };
  std::set<std::string> seen = {original};
  for (const auto& [field, change] : changes) {
    Event e = SampleEvent();
    change(e);
    std::string hash = ComputeEventHash(e);
    EXPECT_NE(hash, original) << field << " is not covered by the hash";
    EXPECT_TRUE(seen.insert(hash).second) << field;
  }
}

TEST(Event, FieldBoundariesCannotBeShifted) {
  // Length prefixes: moving text from one field into the next gives another encoding.
  Event a = SampleEvent();
  Event b = SampleEvent();
  a.actor.id = "rev-1";
  a.actor.role = "reviewer";
  b.actor.id = "rev-1\n8:reviewer";
  b.actor.role = "";
  EXPECT_NE(CanonicalEventEncoding(a), CanonicalEventEncoding(b));
  EXPECT_NE(ComputeEventHash(a), ComputeEventHash(b));
}

TEST(Event, TransportMetadataIsNotHashed) {
  Event e = SampleEvent();
  const std::string original = ComputeEventHash(e);
  e.idempotency_key = "another-key";
  EXPECT_EQ(ComputeEventHash(e), original);
  e.idempotency_key.clear();
  EXPECT_EQ(ComputeEventHash(e), original);
  // The actor's display name is not stored with the event, so it is not hashed either.
  e.actor.name = "李四";
  EXPECT_EQ(ComputeEventHash(e), original);
  // Nor is the stored hash itself.
  e.hash = "tampered";
  EXPECT_EQ(ComputeEventHash(e), original);
}

TEST(Event, CanonicalJsonSortsKeysAndIsCompact) {
  json j = json::parse(R"({"zeta": 1, "alpha": {"y": [3, 2, 1], "b": null}, "mid": "中文"})");
  EXPECT_EQ(CanonicalJson(j), R"({"alpha":{"b":null,"y":[3,2,1]},"mid":"中文","zeta":1})");
  // Key order in the input does not matter.
  EXPECT_EQ(CanonicalJson(json::parse(R"({"b": 1, "a": 2})")),
            CanonicalJson(json::parse(R"({"a": 2, "b": 1})")));
  // Bytewise key order: upper case before lower case, "a" before "a_b" before "ab".
  EXPECT_EQ(CanonicalJson(json::parse(R"({"ab":1,"a_b":2,"a":3,"B":4})")),
            R"({"B":4,"a":3,"a_b":2,"ab":1})");
  EXPECT_EQ(CanonicalJson(json::object()), "{}");
  // Canonical text is a fixed point.
  std::string text = CanonicalJson(j);
  EXPECT_EQ(CanonicalJson(json::parse(text)), text);
  // Numbers keep their value through a round trip.
  std::string numbers =
      CanonicalJson(json::parse(R"({"f": 0.1, "i": -7, "u": 18446744073709551615})"));
  EXPECT_EQ(numbers, R"({"f":0.1,"i":-7,"u":18446744073709551615})");
  EXPECT_EQ(CanonicalJson(json::parse(numbers)), numbers);
}

TEST(Event, DataJsonParsesTheStoredText) {
  Event e = SampleEvent();
  EXPECT_EQ(e.DataJson(), json::parse(R"({"b":1,"comment":"材料齐全"})"));
  e.data = "not json";
  EXPECT_EQ(e.DataJson(), json::object());
}

// ParseStoredData reads canonical text with its own parser and everything else with nlohmann's:
// either way the tree (types included: unsigned without a sign) is the one nlohmann builds, and
// text that is not JSON is an empty object.
TEST(Event, StoredDataParsesAsNlohmannDoes) {
  const char* const texts[] = {
      "{}",
      "[]",
      "null",
      "true",
      "false",
      "0",
      "7",
      "-7",
      "-0",
      "007",
      "1.5",
      "1e3",
      "123456789012345678",
      "1234567890123456789",
      "18446744073709551615",
      "-9223372036854775808",
      R"({"a":1,"b":[1,-2,"x",null,true,false,{}],"c":{"d":"材料齐全"}})",
      R"({"b":1,"a":2})",
      R"({"a":1,"a":2})",
      R"({"a" : 1})",
      R"({"a":1} )",
      R"( {"a":1})",
      R"({"a":"line\nbreak"})",
      R"({"a":"\u00e9"})",
      "{\"a\":\"\x01\"}",
      "{\"a\":\"\xff\"}",
      "{\"a\":\"\xe6\x9d\"}",
      R"({"a":1,})",
      R"({"a":})",
      R"({"a")",
      R"([1,2)",
      R"("open)",
      "tru",
      "nul",
      "-",
      "",
      "not json",
      R"({"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
  };
  for (const char* text : texts) {
    json expected = json::parse(text, nullptr, false);
    if (expected.is_discarded()) expected = json::object();
    json parsed = ParseStoredData(text);
    EXPECT_EQ(parsed, expected) << text;
    EXPECT_EQ(parsed.dump(), expected.dump()) << text;
    if (parsed.is_number()) {
      EXPECT_EQ(parsed.type(), expected.type()) << text;
    }
  }
  json nested = ParseStoredData(R"({"n":[5,-5]})");
  EXPECT_TRUE(nested["n"][0].is_number_unsigned());
  EXPECT_TRUE(nested["n"][1].is_number_integer() && !nested["n"][1].is_number_unsigned());
}

TEST(Event, EventToJson) {
  Event e = SampleEvent();
  json j = EventToJson(e);
  EXPECT_EQ(j["case_id"], e.case_id);
  EXPECT_EQ(j["seq"], 3);
  EXPECT_EQ(j["time"], "2026-03-02T01:00:00.250Z");
  EXPECT_EQ(j["actor"]["id"], "rev-1");
  EXPECT_EQ(j["data"]["comment"], "材料齐全");
  EXPECT_EQ(j["step"], "decide");
  EXPECT_EQ(j["definition"]["version"], 1);
  EXPECT_EQ(j["hash"], e.hash);
  EXPECT_FALSE(j.contains("idempotency_key"));
  e.step.clear();
  EXPECT_EQ(EventToJson(e)["step"], nullptr);
}

TEST(Event, CanonicalJsonIsTheSerializersText) {
  // AppendCanonicalJson writes the common values itself; it must give nlohmann's bytes for
  // everything, including what needs escaping or replacing.
  const std::vector<json> values = {
      json(nullptr),
      json(true),
      json(false),
      json(0),
      json(-42),
      json(INT64_MIN),
      json(UINT64_MAX),
      json(1.5),
      json(1e300),
      json(-0.0),
      json(""),
      json("plain"),
      json("材料齐全"),
      json("quote \" and backslash \\"),
      json("tab\tnewline\ncr\rbell\x07 del\x7f"),
      json(std::string("nul\0inside", 10)),
      json("invalid \xff\xfe utf-8"),
      json("truncated \xe6\x9d"),
      json("overlong \xc0\xaf"),
      json("surrogate \xed\xa0\x80"),
      json("emoji \xf0\x9f\x98\x80"),
      json("past U+10FFFF \xf4\x90\x80\x80"),
      json::array(),
      json::object(),
      json::parse(R"({"b":[1,{"z":null,"a":"x"},[]],"a":{"\u00e9":2.25,"k\"ey":false}})"),
  };
  for (const json& value : values) {
    std::string expected = value.dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_EQ(CanonicalJson(value), expected);
    std::string appended = "prefix";
    AppendCanonicalJson(&appended, value);
    EXPECT_EQ(appended, "prefix" + expected);
  }
}

TEST(Event, AnEscapedOrInvalidByteIsFoundAtEveryOffset) {
  // Plain ASCII is checked eight bytes at a time: a byte that needs escaping or replacing must be
  // found wherever it falls within or across those eight-byte words, and the bytes next to the
  // ones it flags (space, '!', '#', '[', ']', DEL) must not be taken for it.
  const std::vector<std::string> specials = {std::string(1, '\0'),
                                             "\x01",
                                             "\x1f",
                                             "\"",
                                             "\\",
                                             "\xff",
                                             "\xc0\xaf",
                                             "\xed\xa0\x80",
                                             " ",
                                             "!",
                                             "#",
                                             "[",
                                             "]",
                                             "\x7f",
                                             "\xe6\x9d\x90",
                                             "\xf0\x9f\x98\x80"};
  for (const std::string& special : specials) {
    for (size_t length = 0; length <= 24; ++length) {
      for (size_t at = 0; at <= length; ++at) {
        std::string text = std::string(at, 'a') + special + std::string(length - at, 'z');
        std::string appended;
        AppendJsonString(&appended, text);
        EXPECT_EQ(appended, json(text).dump(-1, ' ', false, json::error_handler_t::replace))
            << "special byte(s) "
            << json(special).dump(-1, ' ', true, json::error_handler_t::replace) << " at " << at
            << " of " << text.size();
      }
    }
  }
}

TEST(Event, EveryLeadAndSecondByteIsJudgedAsTheSerializerJudgesIt) {
  // Multi-byte UTF-8 is checked by byte ranges (Unicode table 3-7), not by decoding: every lead
  // byte from 80 to FF with every second byte, and third and fourth bytes in and out of 80..BF,
  // must come out as nlohmann's serializer writes them (copied, or replaced when ill-formed).
  const unsigned char later[] = {0x80, 0xBF, 0x7F, 0xC0};
  for (int lead = 0x80; lead <= 0xFF; ++lead) {
    for (int second = 0; second <= 0xFF; ++second) {
      for (unsigned char third : later) {
        for (unsigned char fourth : {later[0], later[3]}) {
          std::string text = {'x',
                              static_cast<char>(lead),
                              static_cast<char>(second),
                              static_cast<char>(third),
                              static_cast<char>(fourth),
                              'y'};
          std::string appended;
          AppendJsonString(&appended, text);
          ASSERT_EQ(appended, json(text).dump(-1, ' ', false, json::error_handler_t::replace))
              << std::hex << lead << " " << second << " " << int(third) << " " << int(fourth);
        }
      }
    }
  }
}

TEST(Event, SwapExchangesEveryMember) {
  // swap is written member by member: one it leaves out stays behind in its event, which this
  // catches for every member a sample sets (a new member needs a line here and in the swap).
  Event a = SampleEvent();
  Event b;
  b.case_id = "c0000000000000000000000000001";
  b.seq = 9;
  b.time = ParseTimestamp("2026-04-01T10:00:00+08:00").value();
  b.actor = {"clerk-2", "clerk", "city-market-bureau", "李四"};
  b.action = "accept";
  b.data = CanonicalJson({{"channel", "window"}});
  b.status = "accepted";
  b.step = "";
  b.definition_id = "food-licence";
  b.definition_version = 4;
  b.prev_hash = std::string(64, 'b');
  b.idempotency_key = "key-2";
  b.hash = ComputeEventHash(b);
  const Event a_before = a;
  const Event b_before = b;
  auto same = [](const Event& x, const Event& y) {
    return CanonicalEventEncoding(x) == CanonicalEventEncoding(y) && x.hash == y.hash &&
           x.actor.name == y.actor.name && x.idempotency_key == y.idempotency_key;
  };
  swap(a, b);
  EXPECT_TRUE(same(a, b_before));
  EXPECT_TRUE(same(b, a_before));
}

TEST(Event, HashCheckerAgreesWithComputeEventHash) {
  EventHashChecker checker;
  Event e = SampleEvent();
  EXPECT_TRUE(checker.Matches(e));
  for (int i = 0; i < 3; ++i) {
    Event altered = e;
    if (i == 0) altered.data = CanonicalJson({{"comment", "材料齐全"}, {"b", 2}});
    if (i == 1) altered.seq = 4;
    if (i == 2) altered.prev_hash = std::string(64, 'b');
    EXPECT_FALSE(checker.Matches(altered)) << i;
    altered.hash = ComputeEventHash(altered);
    EXPECT_TRUE(checker.Matches(altered)) << i;
  }
  // One checker over many events gives what a fresh computation gives for each.
  EXPECT_TRUE(checker.Matches(e));
}

}  // namespace
}  // namespace tongban
