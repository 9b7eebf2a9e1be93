// held_bytes: a buffer taken over, a buffer allocated for reading into, and parts of either
// that keep the whole alive for as long as any part is held (the log holds a produce request's
// batch this way, after the request itself is gone).

#include "protocol/held_bytes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>

namespace sluice {

TEST_CASE("a buffer taken over is held as is") {
  byte_buffer own(5, std::byte{7});
  const std::byte* where = own.data();
  held_bytes h(std::move(own));
  CHECK(h.size() == 5);
  CHECK(h.data() == where);
  CHECK(std::all_of(h.data(), h.data() + h.size(), [](std::byte b) { return b == std::byte{7}; }));
}

TEST_CASE("an uninitialized buffer has the size asked for and is writable") {
  auto h = held_bytes::uninitialized(4096);
  REQUIRE(h.size() == 4096);
  std::fill(h.data(), h.data() + h.size(), std::byte{0x5a});
  CHECK(h.span().back() == std::byte{0x5a});
  CHECK(held_bytes::uninitialized(0).size() == 0);
}

TEST_CASE("a part outlives the holder it was cut from and shares its bytes") {
  held_bytes part;
  {
    auto whole = held_bytes::uninitialized(100);
    std::fill(whole.data(), whole.data() + whole.size(), std::byte{0});
    part = whole.part(whole.span().subspan(10, 20));
    whole.data()[10] = std::byte{1};  // writes through either are seen by both
    CHECK(part.data()[0] == std::byte{1});
    part.data()[19] = std::byte{2};
    CHECK(whole.data()[29] == std::byte{2});
  }
  REQUIRE(part.size() == 20);
  CHECK(part.data()[0] == std::byte{1});  // still there (ASan would catch a freed buffer)
  CHECK(part.data()[19] == std::byte{2});
}

}  // namespace sluice
