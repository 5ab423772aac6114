// The pages' static files (web/ in the source tree: our stylesheet and
// scripts, and vendored libraries with their licences), embedded in the
// binary at build time by cmake/embed_assets.cmake, so that `qorgau serve`
// needs no file beside it and no build step of its own.
#pragma once

#include <cstddef>
#include <string_view>

namespace qorgau::web {

struct EmbeddedAsset {
  const char* path;  // "assets/qorgau.css", "vendor/uplot-1.6.32/uPlot.esm.js"
  const unsigned char* data;
  std::size_t size;
};

extern const EmbeddedAsset kAssets[];
extern const std::size_t kAssetCount;

// The asset at `path` (relative to web/), or null.
const EmbeddedAsset* FindAsset(std::string_view path);

}  // namespace qorgau::web
