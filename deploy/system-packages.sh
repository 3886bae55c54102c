#!/usr/bin/env bash
# Install the Debian packages listed in deploy/system-packages.txt whose command is missing.
# Runs as root (CI, this machine) or through sudo; does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
while read -r package command; do
  [[ -z "${package}" || "${package}" == \#* ]] && continue
  command -v "${command}" >/dev/null 2>&1 || missing+=("${package}")
done < system-packages.txt
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[[ "$(id -u)" -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
${sudo} apt-get update -qq
${sudo} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
