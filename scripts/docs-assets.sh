#!/usr/bin/env bash
# Refreshes the API reference's embedded assets (api/docsui/assets) from the npm
# registry: @stoplight/elements' standalone web-components bundle and stylesheet,
# with its licence. `make docs-assets` runs it; commit the result. The binary
# never fetches anything: /docs serves these files from inside it.
# Usage: scripts/docs-assets.sh [version]   (default: the version in VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=api/docsui/assets
version=${1:-$(awk '{print $2}' "$dest/VERSION")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@stoplight/elements@$version" >/dev/null && tar xzf ./*.tgz)
for f in web-components.min.js web-components.min.js.LICENSE.txt styles.min.css LICENSE; do
	cp "$tmp/package/$f" "$dest/$f"
done
echo "@stoplight/elements $version" > "$dest/VERSION"
echo "docs-assets: @stoplight/elements $version in $dest"
