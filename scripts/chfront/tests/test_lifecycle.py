"""scripts/clickhouse itself (start, stop, status, url, CLICKHOUSE_URL) and user/password checks,
each on a server of its own."""

import base64
import os
import socket
import threading

import pytest

from conftest import Client, run_script, start_server


def test_stop_and_start_keep_the_data(tmp_path):
    directory = tmp_path / "ch"
    url = start_server(directory)
    client = Client(url)
    client.query("CREATE TABLE kept (x UInt32) ENGINE = MergeTree ORDER BY x")
    client.query("INSERT INTO kept FORMAT TSV", b"1\n2\n3\n")
    assert run_script("url", "--dir", str(directory)).stdout.strip() == url
    status = run_script("status", "--dir", str(directory))
    assert "running at " + url in status.stdout
    assert (directory / "server.log").exists() and (directory / "server.pid").exists()

    run_script("stop", "--dir", str(directory))
    status = run_script("status", "--dir", str(directory), check=False)
    assert status.returncode == 3 and "not running" in status.stdout
    assert run_script("url", "--dir", str(directory), check=False).returncode == 3
    with pytest.raises(OSError):
        socket.create_connection((client.host, client.port), timeout=2).close()

    client = Client(start_server(directory))
    try:
        assert client.text("SELECT sum(x) FROM kept") == "6\n"
        log = (directory / "server.log").read_text()
        assert "INSERT INTO kept FORMAT TSV" in log  # requests are logged with their query
    finally:
        run_script("stop", "--dir", str(directory))


def test_starting_twice_on_one_directory_fails(tmp_path):
    directory = tmp_path / "ch"
    url = start_server(directory)
    try:
        again = run_script("start", "--port", "0", "--dir", str(directory), check=False)
        assert again.returncode == 1
        assert "already running" in again.stderr and str(directory) in again.stderr
        assert Client(url).text("SELECT 1") == "1\n"  # the first one is untouched
    finally:
        run_script("stop", "--dir", str(directory))


def test_stale_pid_file_is_cleaned_up(tmp_path):
    directory = tmp_path / "ch"
    directory.mkdir()
    (directory / "server.pid").write_text("999999\n")  # no such process
    (directory / "server.port").write_text("1\n")
    assert run_script("status", "--dir", str(directory), check=False).returncode == 3
    assert not (directory / "server.pid").exists()
    url = start_server(directory)
    try:
        assert Client(url).text("SELECT 1") == "1\n"
    finally:
        run_script("stop", "--dir", str(directory))
    assert run_script("stop", "--dir", str(directory)).returncode == 0  # stopping a stopped one is fine


def test_staging_files_of_a_dead_server_are_removed_at_start(tmp_path):
    # A server killed mid-INSERT (SIGKILL) leaves its staging file; the next start removes it,
    # and leaves alone the files of servers that are still running.
    dead = "/dev/shm/chfront-insert-999999-killed.bin"  # no such process
    alive = f"/dev/shm/chfront-insert-{os.getpid()}-running.bin"
    for path in (dead, alive):
        with open(path, "wb") as out:
            out.write(b"x")
    directory = tmp_path / "ch"
    try:
        start_server(directory)
        assert not os.path.exists(dead)
        assert os.path.exists(alive)
    finally:
        run_script("stop", "--dir", str(directory))
        for path in (dead, alive):
            if os.path.exists(path):
                os.unlink(path)


def test_port_from_the_environment_and_busy_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_script("start", "--dir", str(tmp_path / "ch"), env={"SLUICE_CLICKHOUSE_PORT": str(port)},
                            check=False)
    assert result.returncode == 1
    assert "did not start" in result.stderr and "cannot listen" in result.stderr


def test_clickhouse_url_set_means_no_local_server(tmp_path):
    env = {"CLICKHOUSE_URL": "http://clickhouse.example:8123"}
    directory = tmp_path / "ch"
    result = run_script("start", "--dir", str(directory), env=env)
    assert result.stdout.strip() == ("using the ClickHouse server at http://clickhouse.example:8123 "
                                     "(CLICKHOUSE_URL is set); not starting a local one")
    assert not (directory / "server.pid").exists()
    assert run_script("url", "--dir", str(directory), env=env).stdout.strip() == "http://clickhouse.example:8123"
    assert run_script("stop", "--dir", str(directory), env=env).returncode == 0


def test_bad_usage():
    assert run_script("frobnicate", check=False).returncode == 2
    result = run_script("start", "--port", "eighty", check=False)
    assert result.returncode == 1 and "must be a number" in result.stderr


# --- users and passwords ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    directory = tmp_path_factory.mktemp("secured")
    url = start_server(directory, "--user", "sluice", env={"SLUICE_CLICKHOUSE_PASSWORD": "s3cret"})
    yield Client(url)
    run_script("stop", "--dir", str(directory), check=False)


def test_right_credentials_each_way(secured: Client):
    basic = base64.b64encode(b"sluice:s3cret").decode()
    ways = [
        ({"X-ClickHouse-User": "sluice", "X-ClickHouse-Key": "s3cret"}, {}),
        ({"Authorization": "Basic " + basic}, {}),
        ({}, {"user": "sluice", "password": "s3cret"}),
    ]
    for headers, params in ways:
        resp = secured.request("POST", b"SELECT currentUser() = currentUser()", params=params, headers=headers)
        assert (resp.status, resp.body) == (200, b"1\n"), (headers, params, resp.text)


def test_wrong_credentials(secured: Client):
    basic = base64.b64encode(b"sluice:wrong").decode()
    ways = [
        ({"X-ClickHouse-User": "sluice", "X-ClickHouse-Key": "wrong"}, {}),
        ({"Authorization": "Basic " + basic}, {}),
        ({}, {"user": "sluice", "password": "wrong"}),
        ({}, {"user": "default"}),
        ({}, {}),  # no credentials: the user "default", who does not exist here
    ]
    for headers, params in ways:
        resp = secured.request("POST", b"SELECT 1", params=params, headers=headers)
        assert resp.status == 403, (headers, params)
        assert resp.header("X-ClickHouse-Exception-Code") == "516"
        assert resp.text.startswith("Code: 516. DB::Exception: ")
        assert "Authentication failed: password is incorrect, or there is no user with such name" in resp.text
    resp = secured.request("POST", b"SELECT 1", params={"password": "s3cret"},
                           headers={"X-ClickHouse-User": "sluice", "X-ClickHouse-Key": "s3cret"})
    assert resp.status == 403 and "simultaneously" in resp.text


def test_default_user_without_password(ch: Client):
    assert ch.request("POST", b"SELECT 1", params={"user": "default"}).status == 200
    resp = ch.request("POST", b"SELECT 1", params={"user": "default", "password": "x"})
    assert (resp.status, resp.header("X-ClickHouse-Exception-Code")) == (403, "516")
    assert resp.text.startswith("Code: 516. DB::Exception: default: Authentication failed")


def test_concurrent_clients(ch: Client, table: str):
    ch.query(f"CREATE TABLE {table} (x UInt32) ENGINE = MergeTree ORDER BY x")
    errors = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                ch.query(f"INSERT INTO {table} FORMAT TSV", b"%d\n" % (i * 100 + j))
                assert ch.text("SELECT 1") == "1\n"
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert ch.text(f"SELECT count() FROM {table}") == "40\n"


def test_large_body_streams_through(ch: Client, table: str):
    ch.query(f"CREATE TABLE {table} (x UInt64, s String) ENGINE = MergeTree ORDER BY x")
    row = b"x" * 1000
    count = 60_000  # ~60 MB of RowBinary
    body = b"".join(i.to_bytes(8, "little") + b"\xe8\x07" + row for i in range(count))
    ch.query(f"INSERT INTO {table} FORMAT RowBinary", body)
    assert ch.text(f"SELECT count(), sum(length(s)) FROM {table}") == f"{count}\t{count * 1000}\n"
    # This server's staging files only: other servers (the test run's own ClickHouse) may be mid-INSERT.
    pid = (ch.directory / "server.pid").read_text().strip()
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"chfront-insert-{pid}-")]
