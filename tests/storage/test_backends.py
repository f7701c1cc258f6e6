"""The storage backends' contract, the same for each: put, open, delete;
missing is a 404 error, an unreachable store a 503 error; keys stay inside;
wrong settings stop the start naming the setting; nothing is contacted (or
imported) before the first use."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from testdb import BASE_CONFIG, ROOT

from service import create_app
from service.domain.errors import NotFound
from service.storage import (
    LocalStorage,
    S3Storage,
    StorageSettingsError,
    StorageUnavailable,
    StoredFileMissing,
    from_settings,
)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        yield LocalStorage(str(tmp_path / "files"))
        return
    server = request.getfixturevalue("s3")
    yield from_settings(server.settings)


def test_what_is_put_can_be_read_replaced_and_deleted(store):
    store.put("7/abc-123", b"first", "text/plain")
    store.put("7/abc-123", b"second version", "text/plain")
    with store.open("7/abc-123") as stream:
        assert stream.read() == b"second version"
    store.delete("7/abc-123")
    with pytest.raises(StoredFileMissing) as missing:
        store.open("7/abc-123")
    assert isinstance(missing.value, NotFound) and missing.value.status == 404
    store.delete("7/abc-123")  # already gone: no error


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "7/../../outside", "", "7//x", "7/./x", "7\\..\\x"])
def test_keys_that_are_not_plain_relative_paths_are_refused(store, key, tmp_path):
    for call in (lambda: store.put(key, b"x", "text/plain"), lambda: store.open(key), lambda: store.delete(key)):
        with pytest.raises(ValueError, match="key"):
            call()
    assert not (tmp_path / "outside").exists()


def test_an_unreachable_s3_store_is_a_503_error_not_a_crash(s3):
    store = from_settings(s3.settings)
    store.put("1/x", b"x", "text/plain")
    s3.stop()
    for call in (lambda: store.put("1/x", b"x", "text/plain"), lambda: store.open("1/x"),
                 lambda: store.delete("1/x")):
        with pytest.raises(StorageUnavailable) as down:
            call()
        assert down.value.status == 503 and "attachment store" in down.value.message


def test_a_local_store_on_a_file_it_cannot_write_is_a_503_error(tmp_path):
    (tmp_path / "files").write_text("a file where the folder should be")
    store = LocalStorage(str(tmp_path / "files"))
    with pytest.raises(StorageUnavailable):
        store.put("1/x", b"x", "text/plain")


@pytest.mark.parametrize(("settings", "named"), [
    ({"ATTACHMENT_STORAGE": "ftp"}, "ATTACHMENT_STORAGE"),
    ({"ATTACHMENT_STORAGE": "s3"}, "ATTACHMENT_S3_BUCKET"),
    ({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": ""}, "ATTACHMENT_S3_BUCKET"),
    ({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": "b", "ATTACHMENT_S3_ENDPOINT_URL": "minio:9000"},
     "ATTACHMENT_S3_ENDPOINT_URL"),
    ({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": "b", "ATTACHMENT_S3_ACCESS_KEY_ID": "AKIA1"},
     "ATTACHMENT_S3_SECRET_ACCESS_KEY"),
    ({"ATTACHMENT_STORAGE": "local", "ATTACHMENT_DIR": ""}, "ATTACHMENT_DIR"),
], ids=["unknown-backend", "s3-without-bucket", "s3-blank-bucket", "s3-endpoint-not-a-url", "s3-half-a-key-pair",
        "local-without-folder"])
def test_wrong_storage_settings_stop_the_start_naming_the_setting(database_url, tmp_path, settings, named):
    with pytest.raises(StorageSettingsError, match=named):
        create_app({**BASE_CONFIG, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i"), **settings})


def test_s3_settings_make_an_s3_backend_with_the_agreed_defaults():
    store = from_settings({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": "kefu-files",
                           "ATTACHMENT_S3_PREFIX": "attachments/", "ATTACHMENT_S3_ENDPOINT_URL": None,
                           "ATTACHMENT_S3_REGION": "us-east-1"})
    assert isinstance(store, S3Storage)
    assert (store.bucket, store.prefix, store.endpoint_url, store.region) == (
        "kefu-files", "attachments/", None, "us-east-1")


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_building_the_app_neither_imports_boto3_nor_connects(kind, database_url, tmp_path):
    """The default install needs no boto3; an S3 app connects on first use only
    (the endpoint here does not exist, and the app still builds)."""
    config = {**BASE_CONFIG, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i"),
              "ATTACHMENT_DIR": str(tmp_path / "files")}
    if kind == "s3":
        config.update({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_S3_BUCKET": "kefu-files",
                       "ATTACHMENT_S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    script = ("import json, sys\nfrom service import create_app\nfrom service.storage import storage\n"
              f"app = create_app(json.loads({json.dumps(json.dumps(config))}))\n"
              "print(type(storage(app)).__name__, 'boto3' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [{"local": "LocalStorage", "s3": "S3Storage"}[kind], "False"]
