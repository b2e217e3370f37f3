// tests/integration/security_test.cpp — what obr must never do with a network it does not
// trust: accept a server certificate it was not told to trust, write credentials anywhere
// (logs, listener messages, recordings, /metrics, /health), or listen beyond loopback
// unless told to.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "connectors/net/http_client.h"
#include "tests/integration/sim_harness.h"
#include "tools/sim/tls_cert.h"

namespace {

using obr::testing::SimHarness;

std::string gunzip_file(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  std::string out;
  if (gz == nullptr) return out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

bool any_contains(const std::vector<std::string>& texts, const std::string& needle) {
  for (const auto& t : texts) {
    if (t.find(needle) != std::string::npos) return true;
  }
  return false;
}

// A certificate the engine does not trust must stop every connection: no book ever goes
// live, and the failure says why.
void expect_refused(SimHarness& h) {
  h.run_for_ms(3000);
  EXPECT_EQ(h.live_callbacks, 0u);
  EXPECT_EQ(h.live_books(), 0u);
  EXPECT_EQ(h.engine().stats().frames, 0u);
  std::vector<std::string> all = h.errors;
  all.insert(all.end(), h.closes.begin(), h.closes.end());
  EXPECT_TRUE(any_contains(all, "certificate verify failed")) << "errors: " << ::testing::PrintToString(all);
  EXPECT_EQ(h.sim().stats().venues.at("kraken").book_messages, 0u);
}

TEST(Security, TheSimulatorsCertificateIsRefusedUnlessTrusted) {
  // Default TLS settings: the system's trust store, which does not hold the simulator's
  // freshly generated certificate.
  SimHarness h({}, true, 7, "", [](obr::engine::EngineConfig& ec) { ec.tls.ca_file.clear(); });
  ASSERT_TRUE(h.started()) << h.error();
  EXPECT_TRUE(obr::engine::EngineConfig{}.tls.verify_peer);
  expect_refused(h);
}

TEST(Security, ACertificateForAnotherKeyIsRefused) {
  obr::sim::SelfSigned other;
  std::string error;
  ASSERT_TRUE(obr::sim::make_self_signed("localhost", other, error)) << error;
  const std::string path = ::testing::TempDir() + "obr-other-cert-" + std::to_string(::getpid()) + ".pem";
  ASSERT_TRUE(write_file(path, other.cert_pem));
  SimHarness h({}, true, 7, "", [&](obr::engine::EngineConfig& ec) { ec.tls.ca_file = path; });
  ASSERT_TRUE(h.started()) << h.error();
  expect_refused(h);
  std::remove(path.c_str());
}

TEST(Security, CredentialsNeverReachListenersRecordingsOrMetrics) {
  const std::string key = "obrKEY5c2db93503", secret = "obrSECRETf03a5284e8e3", pass = "obrPASSb7c1d2e9";
  const std::string rec = ::testing::TempDir() + "obr-security-" + std::to_string(::getpid()) + ".obr.gz";
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  std::string metrics, health;
  std::vector<std::string> seen;
  {
    SimHarness h({}, true, 7, rec, [&](obr::engine::EngineConfig& ec) {
      ec.venue("kucoin").credentials = {key, secret, pass};
      ec.http_listen = "127.0.0.1:0";
    });
    ASSERT_TRUE(h.started()) << h.error();
    ASSERT_TRUE(h.run_until([&] { return h.all_live(); }, 15000)) << "live books: " << h.live_books();
    // The credentialed snapshot endpoint was used (the simulator insists on KC-API-KEY there).
    EXPECT_GT(h.sim().stats().venues.at("kucoin").snapshots_served, 0u);
    obr::net::HttpClient client(h.loop(), {});
    const std::string base = "http://127.0.0.1:" + std::to_string(h.engine().http_port());
    for (const char* path : {"/metrics", "/health"}) {
      bool done = false;
      obr::connectors::HttpRequest req;
      req.method = "GET";
      req.url = base + path;
      client.request(req, [&](const obr::net::HttpResponse& r) {
        (std::string(path) == "/metrics" ? metrics : health) = r.body;
        done = true;
      });
      ASSERT_TRUE(h.run_until([&] { return done; }, 5000)) << path;
    }
    h.engine().stop();
    seen = h.errors;
    seen.insert(seen.end(), h.closes.begin(), h.closes.end());
    seen.insert(seen.end(), h.connection_details.begin(), h.connection_details.end());
  }
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  const std::string recording = gunzip_file(rec);
  std::remove(rec.c_str());
  ASSERT_NE(recording.find(" kucoin config "), std::string::npos);
  EXPECT_NE(recording.find("credentials=1"), std::string::npos);  // that there were credentials, only
  EXPECT_NE(metrics.find("obr_frames_total"), std::string::npos);
  EXPECT_NE(health.find("\"books\""), std::string::npos);
  EXPECT_FALSE(seen.empty());
  for (const std::string& s : {key, secret, pass}) {
    EXPECT_EQ(recording.find(s), std::string::npos) << s << " in the recording";
    EXPECT_EQ(metrics.find(s), std::string::npos) << s << " in /metrics";
    EXPECT_EQ(health.find(s), std::string::npos) << s << " in /health";
    EXPECT_EQ(out.find(s), std::string::npos) << s << " on stdout";
    EXPECT_EQ(err.find(s), std::string::npos) << s << " on stderr";
    EXPECT_FALSE(any_contains(seen, s)) << s << " in a listener message";
  }
  // Nor the signed headers: no KC-API-SIGN or KC-API-PASSPHRASE value is ever written.
  EXPECT_EQ(recording.find("KC-API"), std::string::npos);
  // The WebSocket token is a bearer credential too: connection details show it redacted.
  EXPECT_TRUE(any_contains(seen, "token=***"));
  EXPECT_FALSE(any_contains(seen, "token=sim-"));
}

// An expired token: the simulator rejects it on the WebSocket, the engine fetches a new one
// and reconnects. Neither token may show in connection details, errors or the recording's
// open lines. (A refused HTTP upgrade, whose reason quotes the URL, is redacted by the same
// function; no simulator fault refuses the upgrade itself, so that path is not run here.)
TEST(Security, AnExpiredTokenAndItsReplacementAreNeverShown) {
  std::string error;
  auto expire = obr::sim::parse_fault("expire_token@t=0s", error);
  ASSERT_TRUE(expire.has_value()) << error;
  const std::string rec = ::testing::TempDir() + "obr-security-h-" + std::to_string(::getpid()) + ".obr.gz";
  std::vector<std::string> seen;
  {
    SimHarness h({*expire}, true, 7, rec);
    ASSERT_TRUE(h.started()) << h.error();
    ASSERT_TRUE(h.run_until([&] { return h.all_live() && h.sim().fired().size() == 1; }, 20000));
    h.engine().stop();
    seen = h.errors;
    seen.insert(seen.end(), h.connection_details.begin(), h.connection_details.end());
  }
  const std::string recording = gunzip_file(rec);
  std::remove(rec.c_str());
  EXPECT_TRUE(any_contains(seen, "token=***"));
  EXPECT_FALSE(any_contains(seen, "token=sim-")) << ::testing::PrintToString(seen);
  ASSERT_FALSE(recording.empty());
  EXPECT_EQ(recording.find("token=sim-"), std::string::npos);  // (the bullet body's "token":"sim-…" is kept)
}

// A non-loopback IPv4 address of this machine, or "" when it has none.
std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) found = text;
  }
  freeifaddrs(list);
  return found;
}

// connects: whether a TCP connection to address:port is accepted.
bool connects(const std::string& address, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

TEST(Security, SimulatorAndHealthServerListenOnLoopbackOnly) {
  EXPECT_EQ(obr::sim::SimConfig{}.host, "127.0.0.1");
  SimHarness h({}, true, 7, "", [](obr::engine::EngineConfig& ec) { ec.http_listen = "127.0.0.1:0"; });
  ASSERT_TRUE(h.started()) << h.error();
  ASSERT_TRUE(h.engine().start_http().ok());
  const std::uint16_t sim_port = h.sim().port(), http_port = h.engine().http_port();
  ASSERT_NE(http_port, 0);
  EXPECT_TRUE(connects("127.0.0.1", sim_port));
  EXPECT_TRUE(connects("127.0.0.1", http_port));
  const std::string outside = non_loopback_ipv4();
  if (outside.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address to try";
  EXPECT_FALSE(connects(outside, sim_port)) << "the simulator answers on " << outside;
  EXPECT_FALSE(connects(outside, http_port)) << "the health server answers on " << outside;
}

}  // namespace
