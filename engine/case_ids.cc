#include "engine/case_ids.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>

namespace tongban {

namespace {
std::string RandomString(const char* alphabet, size_t alphabet_size, size_t length) {
  std::string out(length, ' ');
  unsigned char bytes[64];
  RAND_bytes(bytes, static_cast<int>(length));
  for (size_t i = 0; i < length; ++i)
    out[i] = alphabet[bytes[i] % alphabet_size];
  return out;
}
}  // namespace

std::string NewCaseId(Instant now) {
  static const char kHex[] = "0123456789abcdef";
  auto since_epoch = now.time_since_epoch().count();
  uint64_t millis = static_cast<uint64_t>(std::max<int64_t>(0, since_epoch));
  std::string id(1 + kCaseIdTimeDigits, 'c');
  for (int i = kCaseIdTimeDigits; i >= 1; --i, millis >>= 4)
    id[i] = kHex[millis & 0xf];
  id += RandomString(kHex, 16, kCaseIdRandomDigits);
  return id;
}

std::string NewQueryCode() {
  static const char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // no 0/O, 1/I
  return RandomString(kAlphabet, 32, 8);
}

std::string NewCaseNumber(const Calendar& calendar, Instant now) {
  static const char kDigits[] = "0123456789";
  std::string day = FormatIsoDay(calendar.LocalDate(now));
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  return "TB" + day + "-" + RandomString(kDigits, 10, 8);
}

Command CommandFromEvent(const Event& e) {
  Command c;
  c.action = e.action;
  c.actor = e.actor;
  c.time = e.time;
  c.data = e.DataJson();
  return c;
}

Event ChainedEvent(const Command& command, const std::string& case_id, int64_t seq,
                   const std::string& status, const std::string& step,
                   const std::string& definition_id, int definition_version,
                   const std::string& prev_hash, const std::string& idempotency_key) {
  Event e;
  e.case_id = case_id;
  e.seq = seq;
  e.time = command.time;
  e.actor = command.actor;
  e.action = command.action;
  e.data = CanonicalJson(command.data);
  e.status = status;
  e.step = step;
  e.definition_id = definition_id;
  e.definition_version = definition_version;
  e.prev_hash = prev_hash;
  e.idempotency_key = idempotency_key;
  e.hash = ComputeEventHash(e);
  return e;
}

}  // namespace tongban
