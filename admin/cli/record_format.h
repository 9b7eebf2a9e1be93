#pragma once
// How `sluice consume` prints a record: text (the value, optionally preceded by partition and
// offset and by the key) or JSON (one object per line).

#include <string>

#include "consumer/consumer.h"

namespace sluice::cli {

struct text_format {
  bool print_key = false;
  bool print_offset = false;  // "Partition:P" and "Offset:O" fields, as Kafka's console tools
  std::string separator = "\t";
};

// One line without its newline. A null key or value prints as "null" (as Kafka's console
// consumer does).
[[nodiscard]] std::string format_text(const consumer_record& r, const text_format& f);

// {"topic","partition","offset","timestamp","key","value","headers":[{"key","value"}]} with
// null for a null key, value or header value. Headers are a list, not an object, because a
// record may repeat a header name. Bytes that are not UTF-8 become U+FFFD.
[[nodiscard]] std::string format_json(const consumer_record& r);

}  // namespace sluice::cli
