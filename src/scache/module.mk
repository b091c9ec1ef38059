$(eval $(call program,scache,libexec,global util))
