"""Optional integrations, each importing its third-party package only when it is
itself imported (``import activejob`` imports none of them):

- :mod:`activejob.contrib.opentelemetry`: spans for enqueue and perform, with the
  trace context carried in the payload (``activejob[opentelemetry]``);
- :mod:`activejob.contrib.prometheus`: counters and a duration histogram by job
  class, queue and outcome (``activejob[prometheus]``).

Example::

    from activejob.contrib import prometheus
    prometheus.instrument()
"""
