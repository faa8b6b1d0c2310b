"""Function code on disk: each deployment package is extracted once per code hash, like /var/task."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path


class CodeStore:
    """Extracts zips under `root/<sha256>/`; the same code uploaded twice is extracted once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def task_root(self, code_sha256: str, zip_bytes: bytes) -> Path:
        """The directory holding the extracted package whose hex SHA-256 is `code_sha256`."""
        target = self.root / code_sha256
        if target.is_dir():
            return target
        with self._lock:
            if target.is_dir():
                return target
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{code_sha256[:12]}-", dir=self.root))
            try:
                with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
                    archive.extractall(staging)
                os.replace(staging, target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                if not target.is_dir():  # not another process winning the race with the same content
                    raise
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return target
