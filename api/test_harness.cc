#include "api/test_harness.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tongban::api::harness {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const std::string& suffix) {
  static std::atomic<int> counter{0};
  return (fs::path(testing::TempDir()) / ("tongban_api_test_" + std::to_string(getpid()) + "_" +
                                          std::to_string(counter++) + suffix))
      .string();
}

void RemoveDatabase(const std::string& path) {
  RemoveDatabaseUnderTest(path);
}

Instant At(const std::string& timestamp) {
  auto t = ParseTimestamp(timestamp);
  EXPECT_TRUE(t.has_value()) << timestamp;
  return t.value_or(Instant{});
}

void ExecSql(const std::string& path, const std::string& sql) {
  if (TestingPostgres()) {
    ASSERT_EQ(TamperWithPostgres(path, sql), "") << sql;
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in " << sql;
  sqlite3_free(error);
  sqlite3_close(db);
}

std::ostream& operator<<(std::ostream& out, const Reply& r) {
  return out << "HTTP " << r.status << " " << r.body.substr(0, 600);
}

Reply ToReply(const httplib::Result& result) {
  Reply reply;
  if (!result) return reply;
  reply.status = result->status;
  reply.body = result->body;
  reply.headers = result->headers;
  reply.doc = json::parse(reply.body, nullptr, false);
  if (reply.doc.is_discarded()) reply.doc = json();
  return reply;
}

Api::Api(int port) : client_("127.0.0.1", port) {
  client_.set_connection_timeout(5, 0);
  client_.set_read_timeout(20, 0);
  client_.set_write_timeout(5, 0);
}

Reply Api::Get(const std::string& path, const std::string& token, httplib::Headers headers) {
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return ToReply(client_.Get(path.c_str(), headers));
}

Reply Api::PostRaw(const std::string& path, const std::string& token, const std::string& body,
                   httplib::Headers headers) {
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return ToReply(client_.Post(path.c_str(), headers, body, "application/json"));
}

Reply Api::Post(const std::string& path, const std::string& token, const json& body,
                httplib::Headers headers) {
  return PostRaw(path, token, body.dump(), std::move(headers));
}

Reply Api::Act(const std::string& case_id, const std::string& token, const std::string& action,
               const json& data, httplib::Headers headers) {
  return Post("/v1/cases/" + case_id + "/actions", token, {{"action", action}, {"data", data}},
              std::move(headers));
}

Reply Api::PostBytes(const std::string& path, const std::string& token, const std::string& body,
                     const std::string& content_type) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return ToReply(client_.Post(path.c_str(), headers, body, content_type.c_str()));
}

TestServer::TestServer(std::shared_ptr<const PrincipalSet> principals,
                       const std::string& definitions, const std::string& start,
                       ServerOptions options, CaseServiceOptions service_options) {
  db_path_ = TempPath(".db");
  SqliteStoreOptions store_options;
  store_options.path = db_path_;
  auto store = OpenStoreUnderTest(store_options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
  clock_ = std::make_unique<SimulatedClock>(At(start));
  registry_ = std::make_unique<DefinitionRegistry>(store_.get());
  EXPECT_TRUE(registry_->LoadFromStore().ok());
  auto deployed = registry_->DeployDirectory(definitions, clock_->Now());
  EXPECT_TRUE(deployed.ok()) << deployed.status().ToString();
  service_ = std::make_unique<CaseService>(store_.get(), registry_.get(), clock_.get(),
                                           std::move(service_options));
  if (options.checkpoints == nullptr) {
    key_path_ = TempPath(".pem");
    EXPECT_TRUE(GenerateKeyPair(key_path_, key_path_ + ".pub").ok());
    auto key = SigningKey::Load(key_path_);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    CheckpointScheduleOptions checkpoint_options;
    if (key.ok()) checkpoint_options.key = *key;
    checkpoints_ = std::make_unique<CheckpointSchedule>(store_.get(), checkpoint_options);
    options.checkpoints = checkpoints_.get();
  }
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 32;
  server_ =
      std::make_unique<ApiServer>(service_.get(), std::move(principals), clock_.get(), options);
  auto port = server_->Bind();
  EXPECT_TRUE(port.ok()) << port.status().ToString();
  port_ = port.value();
  thread_ = std::thread([this] { server_->Serve(); });
}

TestServer::~TestServer() {
  server_->Stop();
  thread_.join();
  server_.reset();
  service_.reset();
  checkpoints_.reset();
  if (!key_path_.empty()) {
    std::remove(key_path_.c_str());
    std::remove((key_path_ + ".pub").c_str());
  }
  registry_.reset();
  store_.reset();
  RemoveDatabase(db_path_);
}

}  // namespace tongban::api::harness
