#!/usr/bin/env bash
# Container test, without a Docker engine (docs/testing.md, Containers): validates compose.yaml,
# makes a Debian base image with debootstrap, builds the real docker/Dockerfile with podman,
# builds a stand-in for the postgres image, runs the real compose.yaml with docker-compose v1
# against podman's Docker API, and over HTTP registers, logs in as the configured admin,
# creates an event and buys a ticket; then stops and starts the stack and checks that the data
# survived in the volume. Everything it creates lives in one temporary directory, removed at
# the end. Prints where the time goes.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  echo "container test: needs root (debootstrap, rootful podman); skipped"
  exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d /var/tmp/eventhub-container.XXXXXX)
started=$SECONDS
step() { printf '[container %4ds] %s\n' $((SECONDS - started)) "$*"; }
project=ehtest$$
compose=(docker-compose -p "$project" -f "$root/compose.yaml" --env-file "$work/test.env")

cleanup() {
  set +e
  if [[ -S "$work/podman.sock" ]]; then
    DOCKER_HOST=unix://$work/podman.sock "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1
  fi
  [[ -n "${health_loop:-}" ]] && kill "$health_loop" 2>/dev/null
  [[ -n "${service:-}" ]] && kill "$service" 2>/dev/null
  podman rm -af >/dev/null 2>&1
  podman volume prune -f >/dev/null 2>&1
  podman network prune -f >/dev/null 2>&1
  podman rmi -af >/dev/null 2>&1
  umount -R "$work/storage/overlay" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

step "tools: podman, runc, buildah, debootstrap, docker-compose"
# runc: see containers.conf below; dnsname: compose's services find each other by name on
# podman's CNI networks only through this plugin.
missing=()
for p in podman runc golang-github-containernetworking-plugin-dnsname buildah debootstrap \
  docker-compose uidmap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# podman's own configuration, inside $work: the sandbox forbids raising hard rlimits, there is
# no systemd, and images and containers must not outlive the test.
export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
# crun refuses hybrid cgroup v1/v2 hosts ("cgroups in hybrid mode not supported"); runc does not
runtime = "runc"
events_logger = "file"
events_logfile_path = "$work/events.log"
CONF
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
CONF

http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin_email=admin@container.test
admin_password=container-admin-$RANDOM-pass
cat >"$work/test.env" <<ENV
POSTGRES_USER=eventhub
POSTGRES_PASSWORD=pg-$RANDOM$RANDOM-secret
POSTGRES_DB=eventhub
EVENTHUB_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
EVENTHUB_ADMIN_EMAIL=$admin_email
EVENTHUB_ADMIN_PASSWORD=$admin_password
HOST_HTTP_PORT=$http_port
ENV

step "compose.yaml validates (default and cluster profiles)"
"${compose[@]}" config -q
"${compose[@]}" --profile cluster config -q

step "Debian bookworm base image (debootstrap)"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1
# The host's apt sources and settings, and its CA certificates (some networks intercept TLS),
# so that apt and npm inside image builds behave as on this machine.
cp /etc/apt/sources.list.d/*.sources "$work/rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
[[ -f /etc/apt/sources.list ]] && cp /etc/apt/sources.list "$work/rootfs/etc/apt/"
cp /etc/apt/apt.conf.d/99* "$work/rootfs/etc/apt/apt.conf.d/" 2>/dev/null || true
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/"
  chroot "$work/rootfs" update-ca-certificates >/dev/null 2>&1
fi
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/archives/"*.deb
tar -C "$work/rootfs" -c . | podman import --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
rm -rf "$work/rootfs"
for tag in docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim; do
  podman tag localhost/debian:bookworm "$tag"
done

step "building docker/Dockerfile with podman"
podman build --format docker --pull=never --network host -f docker/Dockerfile \
  -t localhost/eventhub:latest . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
podman image inspect localhost/eventhub:latest --format 'eventhub image: {{.Size}} bytes, user {{.Config.User}}, healthcheck {{.Config.Healthcheck.Test}}'
[[ $(podman image inspect localhost/eventhub:latest --format '{{.Config.User}}') == eventhub ]]

step "stand-in for postgres:15-bookworm"
podman build --format docker --pull=never --network host -t docker.io/library/postgres:15-bookworm \
  tests/container/postgres-standin >"$work/postgres-build.log" 2>&1 || { tail -20 "$work/postgres-build.log"; exit 1; }

step "podman's Docker API"
podman system service --time=0 "unix://$work/podman.sock" >"$work/podman-service.log" 2>&1 &
service=$!
for _ in $(seq 50); do [[ -S "$work/podman.sock" ]] && break; sleep 0.1; done
export DOCKER_HOST=unix://$work/podman.sock

# podman runs no healthchecks by itself (no systemd): run them, so that
# `depends_on: condition: service_healthy` can be met.
( while true; do
    for c in $(podman ps -q 2>/dev/null); do podman healthcheck run "$c" >/dev/null 2>&1 || true; done
    sleep 2
  done ) &
health_loop=$!

wait_for_service() {
  for _ in $(seq 120); do
    if curl -fsS "http://127.0.0.1:$http_port/actuator/health" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  "${compose[@]}" logs --tail 50
  return 1
}

step "docker-compose up (the real compose.yaml)"
"${compose[@]}" up -d --no-build
wait_for_service
step "over HTTP: register, admin login, create an event, buy a ticket"
ids=$(python3 tests/container/check_api.py "http://127.0.0.1:$http_port" seed "$admin_email" "$admin_password")
echo "$ids"

step "stop and start the stack: the data must survive in the volume"
"${compose[@]}" stop
"${compose[@]}" up -d --no-build
wait_for_service
python3 tests/container/check_api.py "http://127.0.0.1:$http_port" verify "$admin_email" "$admin_password" "$ids"

step "docker-compose down -v"
"${compose[@]}" down -v --remove-orphans
step "passed"
