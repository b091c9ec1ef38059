$(eval $(call program,cleanup,libexec,global util))
