# Installs the system packages sluice's scripts need, where they are missing.
# Sourced by scripts/test and scripts/demo; the Rust toolchain is the machine's own.

# apt_install PKG...: installs Debian packages (as root, or through sudo).
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -z "${_sluice_apt_updated:-}" ]; then
    $sudo apt-get update -qq || return 1
    _sluice_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

install_prereqs() {
  local missing=()
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; return 1; }
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt_install "${missing[@]}" || return 1
  fi
}
