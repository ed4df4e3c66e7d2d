// Subcommands of the capsim executable. Each takes the arguments after its
// name and returns the process exit code; errors are thrown (see main.cpp).
#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace capsim::cli {

using Args = std::vector<std::string>;

int run_command(const Args& args, const std::atomic<bool>& cancel);
int validate_command(const Args& args);
int list_command(const Args& args);
int sweep_command(const Args& args, const std::atomic<bool>& cancel);
int optimize_command(const Args& args, const std::atomic<bool>& cancel);
int merge_command(const Args& args);
int report_command(const Args& args);
int size_command(const Args& args);
int calibrate_command(const Args& args);

}  // namespace capsim::cli
