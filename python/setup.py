"""Marks the wheel as platform-specific: it ships the core's native library.

The library is loaded with ctypes, not as a CPython extension, so the wheel is
tagged `py3-none-<platform>` and works with any Python 3 on that platform.
"""

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class NativeLibraryDistribution(Distribution):
    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _python, _abi, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeLibraryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
