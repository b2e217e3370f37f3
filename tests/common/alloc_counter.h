// tests/common/alloc_counter.h — counts heap allocations made by this process.
//
// Linking alloc_counter.cpp replaces the global operator new/delete with counting
// versions. Use AllocationScope to assert a block of code allocates nothing:
//
//   obr::testing::AllocationScope scope;
//   hot_path();
//   EXPECT_EQ(scope.allocations(), 0u);
//
// ThreadAllocationScope counts the calling thread's alone, for a hot path that runs while
// other threads of the process (a client library's, a timer's) may allocate.
#pragma once

#include <atomic>
#include <cstdint>

namespace obr::testing {

std::uint64_t allocation_count() noexcept;
std::uint64_t thread_allocation_count() noexcept;  // the calling thread's

class AllocationScope {
 public:
  AllocationScope() noexcept : start_(allocation_count()) {}
  std::uint64_t allocations() const noexcept { return allocation_count() - start_; }

 private:
  std::uint64_t start_;
};

class ThreadAllocationScope {
 public:
  ThreadAllocationScope() noexcept : start_(thread_allocation_count()) {}
  std::uint64_t allocations() const noexcept { return thread_allocation_count() - start_; }

 private:
  std::uint64_t start_;
};

}  // namespace obr::testing
