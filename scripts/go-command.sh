# Sourced by scripts/kube and scripts/docker-engine: builds one command of a
# Go module whose go.mod carries replace or exclude directives (which
# `go install module@version` refuses), in a throwaway module of its own.
# Needs $cache_dir and the caller's say/die.
#
# go_build_command OUT MODULE@VERSION PACKAGE DIRECTIVES
#   OUT         the binary to write (left alone when the build fails)
#   DIRECTIVES  go.mod lines carried over from the module (may be empty)
go_build_command() {
  local out=$1 requirement=$2 package=$3 directives=$4
  local name; name=$(basename "$out")
  local build=$cache_dir/build/$name
  command -v go >/dev/null || die "Go is required to build $name; install Go 1.26+"
  say "building $name from the Go module proxy (minutes, once)"
  rm -rf "$build" && mkdir -p "$build" "$(dirname "$out")"
  (
    cd "$build"
    export GOFLAGS=-mod=mod GOSUMDB=off
    printf 'module kelt.local/build/%s\n\ngo 1.26\n\n%s\n' "$name" "$directives" >go.mod
    go get "$requirement" >build.log 2>&1
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.partial" "$package" >>build.log 2>&1
  ) || die "building $name failed; see $build/build.log"
  mv "$out.partial" "$out"
}
