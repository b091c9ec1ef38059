$(eval $(call program,virtual,libexec,global util))
