// API tests of the web console's routes (console_routes.cc): the pages and assets, their content
// types, security headers and entity tags, and the 404 problem for anything else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "api/api_test_fixture.h"
#include "api/console_routes.h"
#include "api/http_util.h"

namespace tongban::api::api_test {
namespace {

constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void ExpectSecurityHeaders(const Reply& r) {
  EXPECT_EQ(r.Header("Content-Security-Policy"), kPolicy) << r;
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << r;
  EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer") << r;
}

TEST_F(ApiTest, ConsolePagesAreServedWithSecurityHeaders) {
  for (const std::string path : {"/", "/track/TB-2026-000001?code=ABCD1234"}) {
    Reply r = api().Get(path);
    ASSERT_EQ(r.status, 200) << path << r;
    EXPECT_EQ(r.ContentType(), "text/html; charset=utf-8") << path;
    ExpectSecurityHeaders(r);
    EXPECT_EQ(r.Header("Cache-Control"), "no-cache");
    EXPECT_FALSE(r.Header("ETag").empty());
    EXPECT_TRUE(Contains(r.body, "<html lang=\"zh-CN\">")) << r.body.substr(0, 200);
    EXPECT_TRUE(Contains(r.body, "<script type=\"module\" src=\"/console/app.js\">"));
    // No inline script or style: the policy would refuse them.
    EXPECT_FALSE(Contains(r.body, "<script>"));
    EXPECT_FALSE(Contains(r.body, "style=\""));
    EXPECT_FALSE(Contains(r.body, "<style"));
  }
}

TEST_F(ApiTest, ConsoleAssetsHaveTheirContentTypes) {
  const std::pair<std::string, std::string> assets[] = {
      {"/console/app.js", "text/javascript; charset=utf-8"},
      {"/console/style.css", "text/css; charset=utf-8"},
      {"/console/icon.svg", "image/svg+xml"},
      {"/console/index.html", "text/html; charset=utf-8"},
  };
  for (const auto& [path, type] : assets) {
    Reply r = api().Get(path);
    ASSERT_EQ(r.status, 200) << path << r;
    EXPECT_EQ(r.ContentType(), type) << path;
    ExpectSecurityHeaders(r);
    EXPECT_FALSE(r.body.empty());
  }
  // Every embedded asset is served as what it is.
  for (const ConsoleAsset& asset : EmbeddedConsoleAssets()) {
    Reply r = api().Get("/console/" + std::string(asset.name));
    EXPECT_EQ(r.status, 200) << asset.name;
    EXPECT_EQ(r.body, asset.body) << asset.name;
  }
}

TEST_F(ApiTest, ConsoleAssetUnchangedIsNotModified) {
  Reply first = api().Get("/console/app.js");
  ASSERT_EQ(first.status, 200) << first;
  std::string etag = first.Header("ETag");
  ASSERT_EQ(etag.size(), 34u) << etag;  // a quoted strong tag
  Reply again = api().Get("/console/app.js", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304) << again;
  EXPECT_TRUE(again.body.empty());
  ExpectSecurityHeaders(again);
  Reply stale = api().Get("/console/app.js", "", {{"If-None-Match", "\"0\""}});
  EXPECT_EQ(stale.status, 200);
  // Another asset has another tag.
  EXPECT_NE(api().Get("/console/style.css").Header("ETag"), etag);
}

TEST_F(ApiTest, UnknownConsoleAssetIsA404Problem) {
  for (const std::string path :
       {"/console/nope.js", "/console/../README.md", "/console/%2e%2e/CMakeLists.txt",
        "/console/app.js.map", "/console/.hidden.js", "/console/sub/app.js", "/console/"}) {
    EXPECT_EQ(api().Get(path).status, 404) << path;
  }
  Reply r = api().Get("/console/nope.js");
  EXPECT_EQ(r.ContentType(), kProblemJson);
  EXPECT_EQ(r.ProblemType(), "https://tongban.dev/problems/not-found");
  ExpectSecurityHeaders(r);
  // The console adds no route to the JSON API (the OpenAPI cross-check reads these).
  for (const std::string& route : server_->server().routes()) {
    EXPECT_EQ(route.find("/console"), std::string::npos) << route;
    EXPECT_NE(route, "GET /");
  }
}

// --console-dir: the files of a folder, read at each request, and nothing outside it.
TEST(ConsoleDirectory, ServesFilesFromDiskAtEachRequest) {
  std::filesystem::path dir = TempPath("-console");
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  write("index.html", "<!doctype html><html lang=\"zh-CN\"><title>一</title></html>");
  write("app.js", "export const v = 1;");
  std::ofstream(dir.parent_path() / "secret.js") << "secret";
  ServerOptions options;
  options.console_dir = dir.string();
  TestServer server(options);
  Api api(server.port());
  Reply page = api.Get("/track/TB-1");
  ASSERT_EQ(page.status, 200) << page;
  EXPECT_TRUE(Contains(page.body, "<title>一</title>"));
  ExpectSecurityHeaders(page);
  Reply first = api.Get("/console/app.js");
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.ContentType(), "text/javascript; charset=utf-8");
  write("app.js", "export const v = 2;");
  Reply second = api.Get("/console/app.js", "", {{"If-None-Match", first.Header("ETag")}});
  EXPECT_EQ(second.status, 200) << "an edited file is served again";
  EXPECT_EQ(second.body, "export const v = 2;");
  EXPECT_EQ(api.Get("/console/..%2Fsecret.js").status, 404);
  EXPECT_EQ(api.Get("/console/missing.css").status, 404);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(dir.parent_path() / "secret.js");
}

}  // namespace
}  // namespace tongban::api::api_test
