"""The programs images ship besides the shell: busybox applets, GNU coreutils, network clients."""
