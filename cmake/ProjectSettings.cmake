# bobsync_settings: linked PRIVATE by every first-party target.
add_library(bobsync_settings INTERFACE)
target_compile_options(bobsync_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wswitch-enum -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual
  $<$<BOOL:${BOBSYNC_WERROR}>:-Werror>)
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(bobsync_settings INTERFACE _GLIBCXX_ASSERTIONS)
endif()
if(BOBSYNC_SANITIZE)
  target_compile_options(bobsync_settings INTERFACE
    -fsanitize=${BOBSYNC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(bobsync_settings INTERFACE -fsanitize=${BOBSYNC_SANITIZE})
endif()
