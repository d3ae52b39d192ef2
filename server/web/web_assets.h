#pragma once
// The dashboard's files (server/web/assets/), built into the binary by cmake/EmbedAssets.cmake:
// the dashboard works on an isolated network and loads nothing from anywhere else.

#include <cstddef>
#include <span>
#include <string_view>

namespace sluice::web {

struct EmbeddedAsset {
  const char* path;  // "/app.js"
  const unsigned char* data;
  size_t size;
};

std::span<const EmbeddedAsset> EmbeddedAssets();

// The asset served at `path` ("/" is "/index.html"), or null.
const EmbeddedAsset* FindAsset(std::string_view path);
// The Content-Type for an asset path, by its extension.
std::string_view AssetContentType(std::string_view path);

}  // namespace sluice::web
