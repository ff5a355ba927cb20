// The seven categories every billed GPU-second falls into (DESIGN.md, "Categories").
#pragma once

#include <array>
#include <string_view>

namespace gpuledger {

enum class Category : int {
  kNeverUsed = 0,
  kFailedJob,
  kUnmonitored,
  kJobIdle,
  kJobActive,
  kIdleOutsideJobs,
  kActiveOutsideJobs,
};

inline constexpr int kCategoryCount = 7;

inline constexpr std::array<Category, kCategoryCount> kAllCategories = {
    Category::kNeverUsed,        Category::kFailedJob, Category::kUnmonitored,
    Category::kJobIdle,          Category::kJobActive, Category::kIdleOutsideJobs,
    Category::kActiveOutsideJobs};

// The stable id used in JSON and CSV ("never_used", …).
std::string_view CategoryId(Category c);

// The engineering practice that would have saved this category's spend.
std::string_view CategoryPractice(Category c);

// The practice for idle time with GPU memory held (the held-idle lens): a session or notebook
// left holding the GPU, not a machine nobody released.
inline constexpr std::string_view kHeldIdlePractice =
    "stop idle sessions and notebooks that hold a GPU";

// True for every category but job_active, active_outside_jobs and unmonitored: spend that
// bought no useful GPU work.
bool IsWaste(Category c);

// True for the categories of time paid for with the GPU below the threshold: never_used,
// job_idle and idle_outside_jobs (unmonitored time is not idle, it is unknown).
bool IsIdle(Category c);

}  // namespace gpuledger
