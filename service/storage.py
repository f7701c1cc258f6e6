"""Where attachment bytes live: a folder on this machine, or an S3-compatible bucket.

Every backend keeps the same contract, keyed by a relative path such as
``"{ticket_id}/{token}-{digest}"`` (the ``storage_key`` of an attachment row):

* ``put(key, data, content_type)`` stores ``data`` under ``key``, replacing
  what was there; the object appears whole or not at all.
* ``open(key)`` returns a readable binary stream (the caller closes it);
  ``StoredFileMissing`` (a ``NotFound``, 404) when nothing is stored there.
* ``delete(key)`` removes the object; no error when it is already gone.

Any of them raises ``StorageUnavailable`` (503) when the store cannot be
reached or refuses to work, and ``ValueError`` for a key that is not a plain
relative path (keys come from kefu itself; one that climbs out is a bug).

``ATTACHMENT_STORAGE`` picks the backend: ``"local"`` (``LocalStorage``,
files under ``ATTACHMENT_DIR``, the layout kefu always used) or ``"s3"``
(``S3Storage``, one bucket that several nodes share). ``init_app`` checks
the settings when the app is built; ``storage()`` answers the app's backend.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import threading
from typing import BinaryIO

from flask import current_app
from werkzeug.security import safe_join

from service.domain.errors import KefuError, NotFound

log = logging.getLogger("kefu.storage")

_EXTENSION = "kefu_storage"
BACKENDS = ("local", "s3")


class StoredFileMissing(NotFound):
    """The row exists but its bytes are not in the store (404)."""


class StorageUnavailable(KefuError):
    """The attachment store cannot be reached or refused to work (503): the
    client may try again later; nothing was changed."""

    status, code = 503, "storage_unavailable"


class StorageSettingsError(ValueError):
    """The ``ATTACHMENT_*`` settings do not describe a usable store."""


def _checked(key: str) -> str:
    """``key`` if it is a plain relative path (``a/b``), else ``ValueError``."""
    parts = key.split("/") if isinstance(key, str) else [""]
    if any(part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under ``root`` (``ATTACHMENT_DIR``), one per key, as kefu always
    stored them: a node sees only the files it was given itself."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, key: str) -> str:
        path = safe_join(self.root, _checked(key))
        if path is None:  # safe_join refuses what would climb out of root
            raise ValueError(f"storage key {key!r} leaves {self.root}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write ``data`` to ``root/key`` through a temporary file, so a
        crash never leaves half a file under the key."""
        path = self._path(key)
        directory, partial = os.path.dirname(path), None
        try:
            os.makedirs(directory, exist_ok=True)
            # Created as a plain open() would (0666 less the umask), not
            # private like tempfile's: the web processes and the mail
            # listener may run as different users of one group.
            partial = os.path.join(directory, f".part-{secrets.token_hex(8)}")
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
                fh.write(data)
            os.replace(partial, path)
        except OSError as exc:
            if partial is not None:
                _unlink_quietly(partial)
            log.error("attachment %s not written to %s: %s", key, self.root, exc)
            raise StorageUnavailable("the attachment store could not keep the file; try again later") from exc

    def open(self, key: str) -> BinaryIO:
        """The file under ``key``, opened for reading."""
        try:
            return open(self._path(key), "rb")  # the caller streams it, then closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise StoredFileMissing(f"the file {key} is missing from the attachment store") from None
        except OSError as exc:
            log.error("attachment %s not readable in %s: %s", key, self.root, exc)
            raise StorageUnavailable("the attachment store could not be read; try again later") from exc

    def delete(self, key: str) -> None:
        """Remove the file under ``key``, if there is one."""
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageUnavailable("the attachment store could not delete the file") from exc


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class S3Storage:
    """Objects ``prefix + key`` in an S3 bucket (AWS, MinIO, Ceph, or any
    S3-compatible store at ``endpoint_url``), which every node shares.

    boto3 is imported and the client created on first use, once per
    backend (boto3 clients may be shared between threads); building the
    app never connects. Credentials left None come from boto3's usual chain
    (environment, ``~/.aws``, instance role).
    """

    def __init__(self, bucket: str, prefix: str = "attachments/", endpoint_url: str | None = None,
                 region: str = "us-east-1", access_key_id: str | None = None,
                 secret_access_key: str | None = None):
        self.bucket, self.prefix, self.endpoint_url, self.region = bucket, prefix or "", endpoint_url, region
        self._credentials = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        self._client = None
        self._lock = threading.Lock()

    def _s3(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    config = Config(
                        # A store that is down costs a request a few seconds, not a
                        # minute: standard retries (with backoff) stop after three tries.
                        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30,
                        # Other stores than AWS: bucket in the path (no DNS name per
                        # bucket needed), and no checksum headers many of them reject.
                        s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required")
                    # A session of its own: boto3's default session is not thread-safe.
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config,
                        **self._credentials)
        return self._client

    def _unavailable(self, action: str, key: str, exc: Exception) -> StorageUnavailable:
        log.error("attachment store s3://%s/%s%s (%s): %s failed: %s", self.bucket, self.prefix, key,
                  self.endpoint_url or "AWS", action, exc)
        return StorageUnavailable(f"the attachment store is unavailable ({action} failed); try again later")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload ``data`` as one object (S3 makes it visible whole or not at all)."""
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.prefix + _checked(key)
        try:
            self._s3().put_object(Bucket=self.bucket, Key=name, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("upload", key, exc) from exc

    def open(self, key: str) -> BinaryIO:
        """The object's body, streamed from the store as it is read."""
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.prefix + _checked(key)
        try:
            return self._s3().get_object(Bucket=self.bucket, Key=name)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise StoredFileMissing(f"the file {key} is missing from the attachment store") from None
            raise self._unavailable("download", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("download", key, exc) from exc

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers the same whether it existed or not)."""
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.prefix + _checked(key)
        try:
            self._s3().delete_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("delete", key, exc) from exc


def _text(config, name: str, default: str | None = None) -> str | None:
    # str(): a KEFU_ environment value that looks like a number arrives as one.
    value = config.get(name)
    return default if value is None or value == "" else str(value)


def from_settings(config) -> LocalStorage | S3Storage:
    """The backend ``config``'s ``ATTACHMENT_*`` settings describe; nothing is
    contacted. ``StorageSettingsError`` naming the setting when they do not
    describe one: an unknown ``ATTACHMENT_STORAGE``; ``"s3"`` without
    ``ATTACHMENT_S3_BUCKET`` or boto3, with an endpoint that is not an HTTP(S)
    URL, or with only one of the two keys; ``"local"`` without ``ATTACHMENT_DIR``."""
    kind = config.get("ATTACHMENT_STORAGE") or "local"
    if kind == "local":
        if not config.get("ATTACHMENT_DIR"):
            raise StorageSettingsError("ATTACHMENT_DIR must name a folder when ATTACHMENT_STORAGE is 'local'")
        return LocalStorage(config["ATTACHMENT_DIR"])
    if kind != "s3":
        raise StorageSettingsError(f"ATTACHMENT_STORAGE must be one of {', '.join(BACKENDS)}, not {kind!r}")
    bucket, endpoint = _text(config, "ATTACHMENT_S3_BUCKET"), _text(config, "ATTACHMENT_S3_ENDPOINT_URL")
    key_id, secret = _text(config, "ATTACHMENT_S3_ACCESS_KEY_ID"), _text(config, "ATTACHMENT_S3_SECRET_ACCESS_KEY")
    if not bucket:
        raise StorageSettingsError("ATTACHMENT_S3_BUCKET must name a bucket when ATTACHMENT_STORAGE is 's3'")
    if importlib.util.find_spec("boto3") is None:
        raise StorageSettingsError("ATTACHMENT_STORAGE is 's3' but boto3 is not installed (pip install 'kefu[s3]')")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise StorageSettingsError(f"ATTACHMENT_S3_ENDPOINT_URL must be an http:// or https:// URL, not {endpoint!r}")
    if bool(key_id) != bool(secret):
        raise StorageSettingsError("ATTACHMENT_S3_ACCESS_KEY_ID and ATTACHMENT_S3_SECRET_ACCESS_KEY go together: "
                                   "set both, or neither to use boto3's credential chain")
    # An explicit "" prefix keeps the objects at the top of the bucket.
    prefix = str(config.get("ATTACHMENT_S3_PREFIX", "attachments/") or "")
    region = _text(config, "ATTACHMENT_S3_REGION", "us-east-1")
    return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint, region=region, access_key_id=key_id,
                     secret_access_key=secret)


def init_app(app) -> None:
    """Check ``app``'s attachment settings and keep its backend (called by
    ``create_app``, so a wrong setting stops the start, naming it)."""
    app.extensions[_EXTENSION] = from_settings(app.config)


def storage(app=None) -> LocalStorage | S3Storage:
    """The attachment backend of ``app`` (default: the current app), made
    from its settings on first use when ``init_app`` did not run."""
    app = app or current_app._get_current_object()
    backend = app.extensions.get(_EXTENSION)
    if backend is None:
        backend = app.extensions[_EXTENSION] = from_settings(app.config)
    return backend
