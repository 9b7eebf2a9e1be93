// libFuzzer target: arbitrary bytes as one native-protocol frame, decoded the way the broker
// decodes a request (prefix, flatbuffers Verifier, produce payload ranges, the batches in them)
// and the way a client decodes a response (fetch payload ranges, the batches in them).
// Anything but a clean refusal (a crash, a sanitizer report, a hang) is a bug.

#include <cstddef>
#include <cstdint>

#include "protocol/frame.h"
#include "protocol/record_batch.h"
#include "tests/fuzz/batch_checks.h"

namespace {

using sluice::byte_span;

constexpr std::uint32_t max_frame_bytes = 64U << 20;
using sluice::fuzz::max_decompressed;

void walk_produce(const sluice::wire::ProduceRequest& produce, byte_span payload) {
  if (produce.topics() == nullptr) return;
  for (const auto* topic : *produce.topics()) {
    if (topic->partitions() == nullptr) continue;
    for (const auto* p : *topic->partitions()) {
      auto bytes = sluice::payload_bytes(payload, p->records(), topic->name()->string_view());
      if (!bytes) continue;
      if (auto view = sluice::record_batch_view::parse(*bytes)) {
        (void)view->validate(max_decompressed);
      }
    }
  }
}

void walk_fetch(const sluice::wire::FetchResponse& fetch, byte_span payload) {
  if (fetch.topics() == nullptr) return;
  for (const auto* topic : *fetch.topics()) {
    if (topic->partitions() == nullptr) continue;
    for (const auto* p : *topic->partitions()) {
      if (auto bytes = sluice::payload_bytes(payload, p->records(), "fetch")) {
        sluice::fuzz::validate_batches(*bytes);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_span bytes(reinterpret_cast<const std::byte*>(data), size);
  if (bytes.size() < sluice::frame_format::prefix_size) return 0;
  auto prefix =
      sluice::parse_frame_prefix(bytes.first(sluice::frame_format::prefix_size), max_frame_bytes);
  if (!prefix) return 0;
  // A connection reads exactly body_size() bytes after the prefix; extra input is ignored.
  const byte_span after_prefix = bytes.subspan(sluice::frame_format::prefix_size);
  if (after_prefix.size() < prefix->body_size()) return 0;
  const byte_span body = after_prefix.first(prefix->body_size());
  const byte_span message = body.first(prefix->message_length);
  const byte_span payload = body.subspan(prefix->message_length);
  if (auto request = sluice::verify_request(message)) {
    if (const auto* produce = (*request)->body_as_ProduceRequest()) walk_produce(*produce, payload);
  }
  if (auto response = sluice::verify_response(message)) {
    if (const auto* fetch = (*response)->body_as_FetchResponse()) walk_fetch(*fetch, payload);
  }
  return 0;
}
