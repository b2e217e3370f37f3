// connectors/net/detail/tls_context.h — builds the OpenSSL client context from TlsOptions.
// Internal to connectors/net (includes Asio's SSL headers).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "connectors/net/tls.h"

namespace obr::net::detail {

// make_client_tls: TLS 1.2+, peer verification per `options`; nullptr with `error` set
// when the CA file cannot be loaded.
inline std::shared_ptr<boost::asio::ssl::context> make_client_tls(const TlsOptions& options, std::string& error) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (options.verify_peer) {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    ctx->set_default_verify_paths(ec);  // the system store may be absent; the CA file may suffice
    if (!options.ca_file.empty()) {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) {
        error = "cannot load CA file '" + options.ca_file + "': " + ec.message();
        return nullptr;
      }
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  return ctx;
}

// set_sni puts `host` in the ClientHello (servers with several certificates pick by it).
// SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
inline bool set_sni(SSL* ssl, const std::string& host) {
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) == 1;
}

}  // namespace obr::net::detail
