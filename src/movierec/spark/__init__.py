"""Spark ALS training and batch scoring that export the same artifact as ``movierec export``.

Needs the ``spark`` extra (``pip install 'movierec[spark]'``) and Java 17. Importing this package
does not start the JVM; :func:`spark_session` does, after checking Java and the master.
"""

from __future__ import annotations

from movierec.spark.session import check_java, check_master, parse_conf, spark_session

__all__ = ["check_java", "check_master", "parse_conf", "spark_session"]
