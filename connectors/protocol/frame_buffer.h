// connectors/protocol/frame_buffer.h — one reusable, padded copy of the current frame for
// parsers that read past the end (simdjson needs SIMDJSON_PADDING zero bytes).
//
// Grows only when a frame larger than any before arrives; steady state allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace obr::connectors {

class FrameBuffer {
 public:
  explicit FrameBuffer(std::size_t padding) : padding_(padding) {}

  // load copies `frame` and zeroes the padding after it.
  void load(std::string_view frame) {
    const std::size_t need = frame.size() + padding_;
    if (need > capacity_) {
      capacity_ = std::max(need, capacity_ * 2);
      data_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }
    if (!frame.empty()) std::memcpy(data_.get(), frame.data(), frame.size());  // an empty view may be null
    std::memset(data_.get() + frame.size(), 0, padding_);
    size_ = frame.size();
  }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t padding_;
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

}  // namespace obr::connectors
