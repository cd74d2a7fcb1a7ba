#include "engine/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/durable_file.h"
#include "workflows/sha256.h"

namespace tongban {

namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

bool Unhex(const std::string& text, std::string* out) {
  if (text.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

Result<std::string> KeyId(EVP_PKEY* key) {
  unsigned char raw[32];
  size_t n = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != sizeof raw) {
    return Status::InvalidArgument("not an Ed25519 key");
  }
  return Sha256Hex(std::string_view(reinterpret_cast<const char*>(raw), n));
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reads a PEM key from `path` with `read` (PEM_read_bio_PrivateKey or PEM_read_bio_PUBKEY).
template <typename ReadFn>
Result<EVP_PKEY*> ReadPem(const std::string& path, ReadFn read, const char* what) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  BIO* bio = BIO_new_mem_buf(text->data(), static_cast<int>(text->size()));
  if (!bio) return Status::Internal("OpenSSL: BIO_new_mem_buf failed");
  EVP_PKEY* key = read(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return Status::InvalidArgument(path + " is not a PEM " + what);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument(path + " is not an Ed25519 key");
  }
  return key;
}

// Writes `bio`'s contents to a new file with `mode`; never overwrites.
Status WriteNewFile(const std::string& path, BIO* bio, mode_t mode) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists(path + " exists; not overwritten");
    return Status::Internal("cannot create " + path + ": " + std::strerror(errno));
  }
  // The mode given to open() is reduced by the umask; the private key must be 0600 whatever it is.
  ::fchmod(fd, mode);
  bool ok = ::write(fd, data, static_cast<size_t>(n)) == n;
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

// The header as stored in the ledger entry and on the witness's first line (without entry_seq).
nlohmann::json SignedHeaderJson(const Checkpoint& c) {
  nlohmann::json j = {{"format", c.format},
                      {"time", FormatTimestamp(c.time)},
                      {"cases", c.cases},
                      {"events", c.events},
                      {"heads_sha256", c.heads_sha256},
                      {"ledger", {{"seq", c.ledger_seq}, {"hash", c.ledger_hash}}},
                      {"key_id", c.key_id},
                      {"signature", c.signature}};
  if (c.format != kCheckpointFormatV1) {
    j["definitions"] = {{"count", c.definitions}, {"sha256", c.definitions_sha256}};
  }
  return j;
}

std::string DefinitionName(const DefinitionHead& d) {
  return d.kind + "/" + d.id + "@" + std::to_string(d.version);
}

}  // namespace

SigningKey::~SigningKey() {
  EVP_PKEY_free(key_);
}

Result<std::shared_ptr<const SigningKey>> SigningKey::Load(const std::string& path) {
  auto key = ReadPem(path, PEM_read_bio_PrivateKey, "private key");
  if (!key.ok()) return key.status();
  std::shared_ptr<SigningKey> out(new SigningKey());
  out->key_ = *key;
  auto id = KeyId(out->key_);
  if (!id.ok()) return id.status();
  out->key_id_ = *id;
  return std::shared_ptr<const SigningKey>(std::move(out));
}

Result<std::string> SigningKey::Sign(const std::string& message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char signature[64];
  size_t n = sizeof signature;
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
      EVP_DigestSign(ctx, signature, &n, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("OpenSSL: Ed25519 signing failed");
  return Hex(signature, n);
}

VerifyingKey::~VerifyingKey() {
  EVP_PKEY_free(key_);
}

Result<std::shared_ptr<const VerifyingKey>> VerifyingKey::Load(const std::string& path) {
  auto key = ReadPem(path, PEM_read_bio_PUBKEY, "public key");
  if (!key.ok()) return key.status();
  std::shared_ptr<VerifyingKey> out(new VerifyingKey());
  out->key_ = *key;
  auto id = KeyId(out->key_);
  if (!id.ok()) return id.status();
  out->key_id_ = *id;
  return std::shared_ptr<const VerifyingKey>(std::move(out));
}

bool VerifyingKey::Verify(const std::string& message, const std::string& signature_hex) const {
  std::string signature;
  if (!Unhex(signature_hex, &signature) || signature.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Status GenerateKeyPair(const std::string& private_path, const std::string& public_path) {
  for (const std::string& path : {private_path, public_path}) {
    if (std::filesystem::exists(path))
      return Status::AlreadyExists(path + " exists; not overwritten");
  }
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) return Status::Internal("OpenSSL: Ed25519 key generation failed");
  BIO* private_bio = BIO_new(BIO_s_mem());
  BIO* public_bio = BIO_new(BIO_s_mem());
  Status status = Status::Ok();
  if (!private_bio || !public_bio ||
      PEM_write_bio_PrivateKey(private_bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio, key) != 1) {
    status = Status::Internal("OpenSSL: cannot encode the key pair as PEM");
  }
  if (status.ok()) status = WriteNewFile(private_path, private_bio, 0600);
  if (status.ok()) {
    status = WriteNewFile(public_path, public_bio, 0644);
    // Half a pair is of no use, and a private key without its public half would be left lying.
    if (!status.ok()) std::filesystem::remove(private_path);
  }
  BIO_free(private_bio);
  BIO_free(public_bio);
  EVP_PKEY_free(key);
  return status;
}

std::string HeadsDigest(const std::vector<CaseHead>& heads) {
  // Streamed through one digest context: a million heads would otherwise be a 100 MB string.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string buffer = "tongban-heads-v1\n";
  for (const CaseHead& h : heads) {
    AppendEncodedField(&buffer, h.case_id);
    AppendEncodedInt(&buffer, h.seq);
    AppendEncodedField(&buffer, h.hash);
    if (buffer.size() > 64 * 1024) {
      EVP_DigestUpdate(ctx, buffer.data(), buffer.size());
      buffer.clear();
    }
  }
  EVP_DigestUpdate(ctx, buffer.data(), buffer.size());
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  return Hex(digest, n);
}

std::string DefinitionsDigest(const std::vector<DefinitionHead>& definitions) {
  std::string buffer = "tongban-definitions-v1\n";
  for (const DefinitionHead& d : definitions) {
    AppendEncodedField(&buffer, d.kind);
    AppendEncodedField(&buffer, d.id);
    AppendEncodedInt(&buffer, d.version);
    AppendEncodedField(&buffer, d.content_hash);
  }
  return Sha256Hex(buffer);
}

std::string CanonicalCheckpointEncoding(const Checkpoint& c) {
  std::string out = c.format + "\n";
  AppendEncodedInt(&out, c.time.time_since_epoch().count());
  AppendEncodedInt(&out, c.cases);
  AppendEncodedInt(&out, c.events);
  AppendEncodedField(&out, c.heads_sha256);
  AppendEncodedInt(&out, c.ledger_seq);
  AppendEncodedField(&out, c.ledger_hash);
  if (c.format != kCheckpointFormatV1) {
    AppendEncodedInt(&out, c.definitions);
    AppendEncodedField(&out, c.definitions_sha256);
  }
  AppendEncodedField(&out, c.key_id);
  return out;
}

Result<Checkpoint> ComputeCheckpoint(Store* store, Instant time) {
  Checkpoint c;
  c.time = time;
  CaseHead current;
  Status status = store->ForEachEvent([&](Event& e) {
    if (e.case_id != current.case_id) {
      if (!current.case_id.empty()) c.heads.push_back(std::move(current));
      current = CaseHead{};
      current.case_id.swap(e.case_id);
    }
    current.seq = e.seq;
    current.hash.swap(e.hash);
    return true;
  });
  TONGBAN_RETURN_IF_ERROR(status);
  if (!current.case_id.empty()) c.heads.push_back(std::move(current));
  c.cases = static_cast<int64_t>(c.heads.size());
  for (const CaseHead& h : c.heads)
    c.events += h.seq;
  c.heads_sha256 = HeadsDigest(c.heads);
  auto ledger = store->Ledger(0);
  if (!ledger.ok()) return ledger.status();
  c.ledger_hash = kGenesisHash;
  if (!ledger->empty()) {
    c.ledger_seq = ledger->back().seq;
    c.ledger_hash = ledger->back().hash;
  }
  auto definitions = store->Definitions();
  if (!definitions.ok()) return definitions.status();
  for (DefinitionRecord& d : *definitions) {
    c.definition_heads.push_back(
        {std::move(d.kind), std::move(d.id), d.version, std::move(d.content_hash)});
  }
  std::sort(c.definition_heads.begin(), c.definition_heads.end(),
            [](const DefinitionHead& a, const DefinitionHead& b) {
              return std::tie(a.kind, a.id, a.version) < std::tie(b.kind, b.id, b.version);
            });
  c.definitions = static_cast<int64_t>(c.definition_heads.size());
  c.definitions_sha256 = DefinitionsDigest(c.definition_heads);
  return c;
}

Result<Checkpoint> RecordCheckpoint(Store* store, const SigningKey& key, const Actor& actor,
                                    Instant time) {
  auto c = ComputeCheckpoint(store, time);
  if (!c.ok()) return c.status();
  c->key_id = key.key_id();
  auto signature = key.Sign(CanonicalCheckpointEncoding(*c));
  if (!signature.ok()) return signature.status();
  c->signature = *signature;
  StoreWrite write;
  LedgerEntry entry;
  entry.time = time;
  entry.actor = actor;
  entry.kind = kLedgerCheckpoint;
  entry.subject = c->heads_sha256;
  entry.data = CanonicalJson(SignedHeaderJson(*c));
  write.ledger.push_back(std::move(entry));
  TONGBAN_RETURN_IF_ERROR(store->Commit(std::move(write)));
  // Other writers may have appended entries meanwhile: the entry is found by its signature.
  auto after = store->Ledger(c->ledger_seq);
  if (!after.ok()) return after.status();
  for (const LedgerEntry& e : *after) {
    if (e.kind == kLedgerCheckpoint && e.DataJson().value("signature", "") == c->signature) {
      c->entry_seq = e.seq;
      break;
    }
  }
  return c;
}

nlohmann::json CheckpointHeaderToJson(const Checkpoint& c) {
  nlohmann::json j = SignedHeaderJson(c);
  j["entry_seq"] = c.entry_seq;
  return j;
}

Result<int> ClaimWitnessFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  const std::string message = "cannot create witness " + path + ": " + std::strerror(errno);
  return errno == EEXIST ? Status::AlreadyExists(message) : Status::Internal(message);
}

Status WriteWitnessFile(int fd, const std::string& path, const Checkpoint& checkpoint) {
  return WriteSyncAndClose(fd, WitnessText(checkpoint), "witness " + path);
}

std::string WitnessText(const Checkpoint& c) {
  std::string out = CheckpointHeaderToJson(c).dump() + "\n";
  out.reserve(out.size() + c.heads.size() * 120);
  for (const CaseHead& h : c.heads) {
    out += "{\"case\":";
    AppendJsonString(&out, h.case_id);
    out += ",\"seq\":";
    out += std::to_string(h.seq);
    out += ",\"hash\":";
    AppendJsonString(&out, h.hash);
    out += "}\n";
  }
  for (const DefinitionHead& d : c.definition_heads) {
    out += nlohmann::json{{"definition", d.kind},
                          {"id", d.id},
                          {"version", d.version},
                          {"content_hash", d.content_hash}}
               .dump();
    out += "\n";
  }
  return out;
}

namespace {

// Reads a head line exactly as WitnessText writes it when the id needs no escaping — nearly every
// line — without building a JSON tree (a million lines otherwise cost seconds); false for anything
// else, which the JSON parser then reads.
bool ParsePlainHeadLine(std::string_view line, CaseHead* head) {
  auto take = [&line](std::string_view prefix) {
    if (line.substr(0, prefix.size()) != prefix) return false;
    line.remove_prefix(prefix.size());
    return true;
  };
  auto string_until_quote = [&line](std::string* out) {
    size_t end = line.find('"');
    if (end == std::string_view::npos) return false;
    std::string_view value = line.substr(0, end);
    for (char ch : value) {
      if (ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return false;
    }
    out->assign(value);
    line.remove_prefix(end + 1);
    return true;
  };
  if (!take("{\"case\":\"") || !string_until_quote(&head->case_id) || !take(",\"seq\":")) {
    return false;
  }
  size_t digits = 0;
  int64_t seq = 0;
  while (digits < line.size() && digits < 18 && line[digits] >= '0' && line[digits] <= '9') {
    seq = seq * 10 + (line[digits] - '0');
    ++digits;
  }
  if (digits == 0 || (digits > 1 && line[0] == '0')) return false;
  line.remove_prefix(digits);
  head->seq = seq;
  return take(",\"hash\":\"") && string_until_quote(&head->hash) && line == "}";
}

}  // namespace

Result<Checkpoint> ParseWitness(const std::string& text) {
  Checkpoint c;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.empty()) continue;
    if (line_number > 1) {
      CaseHead head;
      if (ParsePlainHeadLine(line, &head)) {
        c.heads.push_back(std::move(head));
        continue;
      }
    }
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("witness line " + std::to_string(line_number) + ": " + why);
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return bad("not a JSON object");
    try {
      if (line_number == 1) {
        c.format = j.value("format", "");
        if (c.format != kCheckpointFormat && c.format != kCheckpointFormatV1) {
          return bad(std::string("not a checkpoint witness (format ") + kCheckpointFormat + " or " +
                     kCheckpointFormatV1 + ")");
        }
        auto time = ParseTimestamp(j.at("time").get<std::string>());
        if (!time) return bad("time is not a timestamp");
        c.time = *time;
        c.cases = j.at("cases").get<int64_t>();
        c.events = j.at("events").get<int64_t>();
        c.heads_sha256 = j.at("heads_sha256").get<std::string>();
        c.ledger_seq = j.at("ledger").at("seq").get<int64_t>();
        c.ledger_hash = j.at("ledger").at("hash").get<std::string>();
        c.key_id = j.at("key_id").get<std::string>();
        c.signature = j.at("signature").get<std::string>();
        c.entry_seq = j.value("entry_seq", int64_t{0});
        if (c.format != kCheckpointFormatV1) {
          c.definitions = j.at("definitions").at("count").get<int64_t>();
          c.definitions_sha256 = j.at("definitions").at("sha256").get<std::string>();
        }
      } else if (j.contains("definition")) {
        if (c.format == kCheckpointFormatV1) return bad("a definition line in a v1 witness");
        c.definition_heads.push_back({j.at("definition").get<std::string>(),
                                      j.at("id").get<std::string>(), j.at("version").get<int>(),
                                      j.at("content_hash").get<std::string>()});
      } else {
        CaseHead h;
        h.case_id = j.at("case").get<std::string>();
        h.seq = j.at("seq").get<int64_t>();
        h.hash = j.at("hash").get<std::string>();
        c.heads.push_back(std::move(h));
      }
    } catch (const nlohmann::json::exception& e) {
      return bad(std::string("missing or mistyped field (") + e.what() + ")");
    }
  }
  if (line_number == 0) return Status::InvalidArgument("the witness file is empty");
  return c;
}

nlohmann::json CheckpointFindingToJson(const CheckpointFinding& f) {
  return {{"kind", f.kind}, {"subject", f.subject}, {"message", f.message}};
}

std::optional<CheckpointFinding> CheckCheckpointSignature(const Checkpoint& c,
                                                          const VerifyingKey& key) {
  auto finding = [](std::string message) {
    return CheckpointFinding{"signature", "witness", std::move(message)};
  };
  if (c.key_id != key.key_id()) {
    return finding("the witness was signed by key " + c.key_id + ", not by the key given (" +
                   key.key_id() + ")");
  }
  if (static_cast<int64_t>(c.heads.size()) != c.cases) {
    return finding("the witness lists " + std::to_string(c.heads.size()) +
                   " case head(s); its header says " + std::to_string(c.cases));
  }
  if (HeadsDigest(c.heads) != c.heads_sha256) {
    return finding(
        "the witness's case heads do not match its signed digest (the file was altered)");
  }
  if (static_cast<int64_t>(c.definition_heads.size()) != c.definitions ||
      (c.format != kCheckpointFormatV1 &&
       DefinitionsDigest(c.definition_heads) != c.definitions_sha256)) {
    return finding(
        "the witness's definitions do not match its signed count and digest (the file was "
        "altered)");
  }
  if (!key.Verify(CanonicalCheckpointEncoding(c), c.signature)) {
    return finding(
        "the signature does not verify (the header was altered or not signed by this key)");
  }
  return std::nullopt;
}

Result<std::vector<CheckpointFinding>> VerifyCheckpoint(Store* store, const Checkpoint& c) {
  // The witnessed heads by case id, whatever order the witness and the store list them in; the
  // store streams each case's events together and in seq order.
  std::vector<size_t> order(c.heads.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return c.heads[a].case_id < c.heads[b].case_id; });
  struct Seen {
    int64_t last_seq = 0;     // 0: no event of the case in the database
    std::string hash_at_seq;  // the hash of the event at the witnessed seq, if present
  };
  std::vector<Seen> seen(c.heads.size());
  std::string current_id;
  const CaseHead* head = nullptr;
  Seen* state = nullptr;
  Status status = store->ForEachEvent([&](Event& e) {
    if (e.case_id != current_id) {
      current_id = e.case_id;
      auto it = std::lower_bound(
          order.begin(), order.end(), current_id,
          [&](size_t i, const std::string& id) { return c.heads[i].case_id < id; });
      bool found = it != order.end() && c.heads[*it].case_id == current_id;
      head = found ? &c.heads[*it] : nullptr;
      state = found ? &seen[*it] : nullptr;
    }
    if (!head) return true;  // a case created after the checkpoint
    state->last_seq = e.seq;
    if (e.seq == head->seq) state->hash_at_seq.swap(e.hash);
    return true;
  });
  TONGBAN_RETURN_IF_ERROR(status);

  std::vector<CheckpointFinding> findings;
  for (size_t i : order) {
    const CaseHead& h = c.heads[i];
    const Seen& s = seen[i];
    const std::string at = std::to_string(h.seq);
    if (s.last_seq == 0) {
      findings.push_back({"case-deleted", h.case_id,
                          "case " + h.case_id + " is missing: the checkpoint has it with " + at +
                              " event(s), the database has no event of it"});
    } else if (s.last_seq < h.seq) {
      findings.push_back({"history-truncated", h.case_id,
                          "case " + h.case_id + " is truncated: its events end at seq " +
                              std::to_string(s.last_seq) + ", the checkpoint has seq " + at +
                              " (events " + std::to_string(s.last_seq + 1) + "-" + at +
                              " missing)"});
    } else if (s.hash_at_seq != h.hash) {
      findings.push_back({"history-differs", h.case_id,
                          "case " + h.case_id + ": event " + at +
                              " is not the one in the checkpoint (hash " +
                              (s.hash_at_seq.empty() ? "missing" : s.hash_at_seq.substr(0, 12)) +
                              ", the checkpoint has " + h.hash.substr(0, 12) +
                              "): its history was rewritten or rolled back"});
    }
  }

  auto ledger = store->Ledger(0);
  if (!ledger.ok()) return ledger.status();
  const int64_t last_seq = ledger->empty() ? 0 : ledger->back().seq;
  const LedgerEntry* witnessed = nullptr;
  for (const LedgerEntry& e : *ledger) {
    if (e.seq == c.ledger_seq) witnessed = &e;
  }
  if (c.ledger_seq > 0 && !witnessed) {
    findings.push_back({"ledger-truncated", "ledger",
                        "the ledger is truncated: it ends at seq " + std::to_string(last_seq) +
                            ", the checkpoint has seq " + std::to_string(c.ledger_seq)});
  } else if (witnessed && witnessed->hash != c.ledger_hash) {
    findings.push_back({"ledger-differs", "ledger",
                        "ledger entry " + std::to_string(c.ledger_seq) +
                            " is not the one in the checkpoint: the ledger was rewritten or "
                            "rolled back"});
  }
  bool recorded = false;
  for (const LedgerEntry& e : *ledger) {
    if (e.seq > c.ledger_seq && e.kind == kLedgerCheckpoint && e.subject == c.heads_sha256 &&
        e.DataJson().value("signature", "") == c.signature) {
      recorded = true;
      break;
    }
  }
  if (!recorded) {
    findings.push_back(
        {"checkpoint-entry-missing", "ledger",
         "the checkpoint's own ledger entry" +
             (c.entry_seq > 0 ? " (seq " + std::to_string(c.entry_seq) + ")" : std::string()) +
             " is missing: the database is a copy from before the checkpoint, or its ledger was "
             "truncated"});
  }
  if (c.definition_heads.empty()) return findings;
  auto deployed = store->Definitions();
  if (!deployed.ok()) return deployed.status();
  for (const DefinitionHead& d : c.definition_heads) {
    auto it = std::find_if(deployed->begin(), deployed->end(), [&](const DefinitionRecord& r) {
      return r.kind == d.kind && r.id == d.id && r.version == d.version;
    });
    const std::string name = DefinitionName(d);
    if (it == deployed->end()) {
      findings.push_back({"definition-missing", name,
                          "definition " + name +
                              " is missing: the checkpoint has it deployed, the database does "
                              "not"});
    } else if (it->content_hash != d.content_hash) {
      // A stored hash rewritten along with the text agrees with the text, not with the witness.
      findings.push_back({"definition-differs", name,
                          "definition " + name +
                              " is not the one in the checkpoint: it was rewritten with its "
                              "content hash (" +
                              it->content_hash.substr(0, 12) + ", the checkpoint has " +
                              d.content_hash.substr(0, 12) + ")"});
    } else if (auto fault = DefinitionRecordFault(*it)) {
      findings.push_back({"definition-differs", name, "definition " + name + ": " + *fault});
    }
  }
  return findings;
}

}  // namespace tongban
