#include "controller/cli/cli.hpp"
#include "controller/reconcile/reconciler.hpp"

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  // Line-buffered stdout, also into a pipe or file: each change apply prints
  // is out as soon as it is printed, so a killed run leaves a record of what
  // it did (std::cout writes through stdio: it is synchronized with it).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // Before any allocation of a pass (controller/reconcile/reconciler.hpp).
  bobsync::controller::tune_allocator_for_passes();
  std::vector<std::string> args(argv + 1, argv + argc);
  return bobsync::cli::run(args, std::cout, std::cerr);
}
