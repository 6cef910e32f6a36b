"""Work that spans domains, one function per flow naming every step."""
