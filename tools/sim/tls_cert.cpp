// tools/sim/tls_cert.cpp — self-signed certificate generation (OpenSSL 3 API).
#include "tools/sim/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace obr::sim {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

bool make_self_signed(const std::string& common_name, SelfSigned& out, std::string& error) {
  std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
  if (!key) {
    error = "OpenSSL: generating a P-256 key failed";
    return false;
  }
  std::unique_ptr<X509, Free> cert(X509_new());
  unsigned char serial[8];
  if (!cert || RAND_bytes(serial, sizeof serial) != 1) {
    error = "OpenSSL: creating the certificate failed";
    return false;
  }
  X509_set_version(cert.get(), 2);
  std::uint64_t s = 0;
  for (unsigned char b : serial) s = (s << 8) | b;
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), s >> 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("obr simulator"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  const std::string san = "DNS:" + common_name + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!add_ext(cert.get(), NID_subject_alt_name, san.c_str()) ||
      !add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign")) {
    error = "OpenSSL: adding certificate extensions failed";
    return false;
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    error = "OpenSSL: signing the certificate failed";
    return false;
  }
  std::unique_ptr<BIO, Free> cbio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, Free> kbio(BIO_new(BIO_s_mem()));
  if (!cbio || !kbio || PEM_write_bio_X509(cbio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    error = "OpenSSL: writing PEM failed";
    return false;
  }
  out.cert_pem = bio_text(cbio.get());
  out.key_pem = bio_text(kbio.get());
  return true;
}

}  // namespace obr::sim
