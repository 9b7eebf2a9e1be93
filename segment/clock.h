#pragma once
// Time as the storage engine sees it: milliseconds since the epoch, injectable so tests of
// time-based roll and retention move time by hand instead of sleeping.

#include <chrono>
#include <cstdint>

namespace sluice {

class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
};

class system_clock final : public clock {
 public:
  [[nodiscard]] std::int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
};

// A clock that only moves when told to.
class manual_clock final : public clock {
 public:
  explicit manual_clock(std::int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  [[nodiscard]] std::int64_t now_ms() const override { return now_ms_; }
  void advance(std::chrono::milliseconds d) { now_ms_ += d.count(); }
  void set(std::int64_t ms) { now_ms_ = ms; }

 private:
  std::int64_t now_ms_;
};

// The process-wide real clock.
inline const clock& real_clock() {
  static const system_clock c;
  return c;
}

}  // namespace sluice
